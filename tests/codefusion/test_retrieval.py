import numpy as np
import pytest

from codefusion.baselines.retrieval import RetrievalSystem, request_literals, substitute_literals

RECORDS = [
    {"ID": 1, "NL Utterance": "Format cells greater than 500", "Code": "GreaterThan(500)"},
    {"ID": 2, "NL Utterance": "Highlight cells that contain the text 'Error'", "Code": "TextContains(Error)"},
    {"ID": 3, "NL Utterance": "Apply a colour scale to the sales", "Code": "ColorScale()"},
    {"ID": 4, "NL Utterance": "Show the top 10 values", "Code": "top(10)"},
    {"ID": 5, "NL Utterance": "Format cells bigger than 500", "Code": "GreaterThan(500)"},   # same code as ID 1
    {"ID": 6, "NL Utterance": None, "Code": "LessThan(3)"},                                  # skipped
]


def test_request_literals_quotes_then_numbers_outside_quotes():
    lits = request_literals("between 25 and 50.5 in 'Sheet 2', not don't it's `x`")
    assert lits.strings == ("Sheet 2", "x")
    assert lits.numbers == ("25", "50.5")


@pytest.mark.parametrize("code, old, new, expected", [
    ("AND(GreaterThanEqual(25),LessThan(50))", "at least 25 and under 50", "at least 10 and under 20.5",
     "AND(GreaterThanEqual(10),LessThan(20.5))"),
    ("strptime(s, '%d/%m/%Y')", "parse `s` with '%d/%m/%Y'", "parse `d` with '%Y-%m-%d'", "strptime(d, '%Y-%m-%d')"),
    # numbers are replaced whole: 10 inside 100 or 10.5 is left alone
    ("head -n 10 f100 10.5", "first 10 lines", "first 3 lines", "head -n 3 f100 10.5"),
    # one pass: 1 -> 2 and 2 -> 1 swap instead of collapsing
    ("range(1, 2)", "from 1 to 2", "from 2 to 1", "range(2, 1)"),
    # a literal of the old request that the code does not use changes nothing
    ("top(10)", "top 10 of sheet 3", "top 5", "top(5)"),
    ("x.split(',')", "split `x` on ','", "split on spaces", "x.split(',')"),
    # a value replacing a bare name goes in as a string; a quoted occurrence keeps its quotes
    ("strptime(s, '%H')", "parse `s`", "parse '03:55'", "strptime('03:55', '%H')"),
    ("f('ab', ab)", "use 'ab'", "use 'x y'", "f('x y', 'x y')"),
    # `\\s` in a regex is not the variable s
    ("re.split('\\s+', s)", "split `s` on spaces", "split `text` on spaces", "re.split('\\s+', text)"),
])
def test_substitute_literals(code, old, new, expected):
    assert substitute_literals(code, old, new) == expected


@pytest.fixture(scope="module")
def system():
    return RetrievalSystem.fit(RECORDS, task="cf")


@pytest.mark.slow
def test_fit_generate_save_load(system, tmp_path):
    assert len(system.codes) == 5 and "LessThan(3)" not in system.codes
    cands = system.generate("Format cells greater than 750", k=3)
    assert cands[0].code == "GreaterThan(750)"              # nearest neighbour, literal substituted
    assert [c.code for c in cands].count("GreaterThan(750)") == 1   # the twin record adds no duplicate
    assert len(cands) == 3
    assert all(a.score >= b.score for a, b in zip(cands, cands[1:]))
    assert len(system.generate("anything", k=10)) == 4      # only 4 distinct codes exist
    with pytest.raises(ValueError, match="k must be"):
        system.generate("x", k=0)

    system.save(tmp_path / "index")
    loaded = RetrievalSystem.load(tmp_path / "index", embedder=system.embedder)
    assert loaded.task == "cf" and loaded.codes == system.codes
    assert np.allclose(loaded.embeddings, system.embeddings)
    assert [c.code for c in loaded.generate("colour scale please", k=2)] == \
           [c.code for c in system.generate("colour scale please", k=2)]
    assert loaded.generate("colour scale please", k=1)[0].code == "ColorScale()"


def test_load_missing_or_inconsistent_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a retrieval index"):
        RetrievalSystem.load(tmp_path)
    with pytest.raises(ValueError, match="inconsistent"):
        RetrievalSystem("cf", ["a"], ["b", "c"], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="empty"):
        RetrievalSystem("cf", [], [], np.zeros((0, 3)))

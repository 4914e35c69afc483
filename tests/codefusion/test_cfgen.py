"""The synthetic generator (codefusion/cfgen): every gold rule parses, is canonical and runs."""
import json
from collections import Counter

import pytest

from cf_rules.executor import execute
from cf_rules.parser import parse
from cf_rules.printer import to_canonical
from cf_rules.table import table_from_json
from codefusion.cfgen import KIND_WEIGHTS, generate
from codefusion.cfgen.__main__ import main as cli_main
from codefusion.cfgen.phrasing import is_held_out
from codefusion.cfgen.vocab import REFERENCE_TODAY


def check_triple(t):
    rule = parse(t["rule"])
    assert to_canonical(rule) == t["rule"], "stored rule is not canonical"
    run = execute(rule, table_from_json(t["table"]), today=REFERENCE_TODAY, columns=t["columns"])
    assert run.cells, f"{t['rule']} formats no cell of its table"
    assert t["request"].strip() and "«" not in t["request"] and "{" not in t["request"]


@pytest.mark.parametrize("kind", sorted(KIND_WEIGHTS))
def test_every_kind_parses_and_runs(kind):
    triples = generate(40, seed=11, kinds={kind: 1.0})
    assert len(triples) == 40
    for t in triples:
        check_triple(t)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KIND_WEIGHTS))
def test_every_kind_parses_and_runs_large(kind):
    for t in generate(300, seed=2, kinds={kind: 1.0}):
        check_triple(t)


def test_all_rule_names_and_date_periods_are_covered():
    triples = generate(3000, seed=0)
    names = Counter(t["kind"].split("/")[0] for t in triples)
    for name in ("GreaterThan", "LessThan", "Between", "NotBetween", "TextContains", "TextEquals", "TextStartsWith",
                 "TextEndsWith", "top", "bottom", "aboveAverage", "belowAverage", "Duplicate", "Unique", "Blanks",
                 "Errors", "ColorScale", "DataBar", "IconSet", "AND", "OR", "NOT", "Equals", "NotEquals",
                 "GreaterThanEqual", "LessThanEqual"):
        assert names[name] > 0, name
    dates = generate(400, seed=1, kinds={"Date": 1.0})
    assert {t["kind"].split("/")[0] for t in dates} == {"Today", "Yesterday", "Tomorrow", "Last7Days", "ThisWeek",
                                                         "LastWeek", "NextWeek", "ThisMonth", "LastMonth", "NextMonth"}
    assert any(t["kind"].endswith("/row") for t in triples)
    assert any(t["rule"].startswith("top(") and t["rule"].endswith("%)") for t in triples)


def test_deterministic_and_varied():
    a, b = generate(200, seed=5), generate(200, seed=5)
    assert a == b
    assert generate(50, seed=6) != a[:50]
    assert len({t["request"] for t in a}) >= 195


def test_literals_come_from_the_table():
    for t in generate(200, seed=3, kinds={"TextEquals": 1.0}):
        value = parse(t["rule"]).args[-1].value
        cells = {str(v).lower() for row in t["table"][1:] for v in row}
        assert value.lower() in cells


def test_train_split_never_uses_held_out_phrasings_and_novel_always_does():
    train = generate(300, seed=4, split="train")
    assert not any(t["held_out"] for t in train)
    novel = generate(100, seed=4, split="novel")
    assert all(t["held_out"] for t in novel)
    assert {t["request"] for t in novel}.isdisjoint({t["request"] for t in train})


def test_held_out_is_stable():
    assert is_held_out("some phrase") == is_held_out("some phrase")


def test_cli_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "syn.jsonl"
    assert cli_main(["--n", "30", "--seed", "1", "--out", str(out), "--stats"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    assert {"request", "table", "rule", "kind"} <= set(json.loads(lines[0]))
    stats = json.loads(capsys.readouterr().out)
    assert stats["triples"] == 30 and sum(stats["by_kind"].values()) == 30


def test_bad_split_is_a_clear_error():
    with pytest.raises(ValueError, match="split"):
        generate(1, split="dev")


# ----------------------------------------------------------------------------------------------
# the wide generator: realistic sheets, every rule naming its column, many styles and languages

import random  # noqa: E402

from benchmarks.ngram_overlap import overlap_report  # noqa: E402
from codefusion.cfgen.draws import Draw  # noqa: E402
from codefusion.cfgen.sheets import SHEETS  # noqa: E402
from codefusion.cfgen.wide import WIDE_KINDS, number_literal  # noqa: E402
from codefusion.cfgen.wide_build import build_wide_triple  # noqa: E402
from codefusion.tasks.cf.literals import number_spelling  # noqa: E402


def wide_triples(n, seed=0, split="train", **kw):
    out = []
    for i in range(n * 15):
        try:
            out.append(build_wide_triple(random.Random(f"{seed}:{i}"), split, **kw))
        except Draw:
            continue
        if len(out) == n:
            break
    return out


def painted_rows(t):
    cells = execute(parse(t["rule"]), table_from_json(t["table"])).cells
    return {int("".join(ch for ch in c if ch.isdigit())) for c in cells}


def leaves(rule):
    args = [a for a in getattr(rule, "args", ()) if hasattr(a, "args") or hasattr(a, "column")]
    if getattr(rule, "name", "") in ("AND", "OR", "NOT"):
        for a in args:
            yield from leaves(a)
    else:
        yield rule


@pytest.mark.parametrize("kind", sorted(WIDE_KINDS))
def test_wide_kind_is_canonical_and_paints_some_but_not_all_rows(kind):
    triples = wide_triples(8, seed=kind, kind=kind)
    assert len(triples) >= 4, f"{kind}: too many failed draws"
    for t in triples:
        assert to_canonical(parse(t["rule"])) == t["rule"]
        rows = painted_rows(t)
        n_rows = len(t["table"]) - 1
        assert rows, t["rule"]
        if kind not in ("ColorScale", "DataBar", "IconSet"):
            assert len(rows) < n_rows, f"{t['rule']} paints every row"
        assert t["format"] in ("cells", "rows")
        assert "«" not in t["request"] and "{" not in t["request"]


def test_wide_rules_name_their_column_on_multi_column_tables():
    for t in wide_triples(200, seed=1):
        assert 3 <= len(t["table"][0]) <= 8
        if t["rule"].startswith("="):
            assert "$" in t["rule"]
            continue
        for leaf in leaves(parse(t["rule"])):
            assert getattr(leaf, "column", None) is not None, t["rule"]


def test_wide_tables_look_like_sheets():
    triples = wide_triples(400, seed=2)
    cells = [v for t in triples for row in t["table"][1:] for v in row]
    headers = [h for t in triples for h in t["table"][0]]
    assert any(isinstance(v, str) and "," in v and v.replace(",", "").isdigit() for v in cells), "numbers as text"
    assert any(isinstance(v, str) and v.endswith("%") for v in cells), "percents as text"
    assert "" in cells and any(v in ("#N/A", "#DIV/0!") for v in cells), "blanks and errors"
    assert any(isinstance(v, str) and "-" in v and v.split("-")[-1].isdigit() for v in cells), "IDs"
    assert "" in headers, "an empty header cell"
    assert any(len(set(t["table"][0])) < len(t["table"][0]) for t in triples), "a repeated header cell"
    assert any(("(" in h or "#" in h or "." in h) for h in headers if h), "unit-bearing or abbreviated headers"
    domains = {t["domain"] for t in triples}
    assert len(domains) >= 12
    assert len(SHEETS) >= 15


def test_wide_requests_vary_in_style_and_language():
    triples = wide_triples(600, seed=3)
    langs = Counter(t["lang"] for t in triples)
    assert {"en", "de", "fr", "es", "zh"} <= set(langs)
    requests = [t["request"] for t in triples]
    assert any(r.endswith("?") for r in requests)
    assert any(r.startswith(("Here", "In this", "Next", "Now let", "Step", "The goal", "For this")) for r in requests)
    assert any(". I" in r or ". How" in r or ". What" in r or ". Is" in r for r in requests), "forum posts"
    assert len(set(requests)) >= 590
    assert {t["format"] for t in triples} == {"cells", "rows"}


def test_percent_literal_on_a_percent_column_compares_the_fraction():
    seen = 0
    for t in wide_triples(400, seed=4):
        rule = t["rule"]
        if "%" not in rule or rule.startswith(("top", "bottom")):
            continue
        seen += 1
        as_fraction = rule
        for token in set(w.strip("(), ") for w in rule.split() if w.strip("(), ").endswith("%")):
            as_fraction = as_fraction.replace(token, str(float(token[:-1]) / 100))
        table = table_from_json(t["table"])
        assert execute(parse(rule), table).cells == execute(parse(as_fraction), table).cells
    assert seen >= 5


def test_number_surfaces_read_back_as_the_rule_literal():
    from codefusion.cfgen.sheets import Field
    money = Field(("Amt ($)",), "number", lambda r: 0, unit="money")
    surfaces = set()
    for i in range(200):
        surface, literal = number_literal(random.Random(i), money, "Amt ($)", 5000, "en")
        assert literal == "5000"
        surfaces.add(surface)
        if any(ch.isdigit() for ch in surface):
            assert number_spelling(surface.replace(" thousand", "k")) == "5000", surface
    assert {"5000", "5,000", "5k"} <= surfaces and any(s.startswith("$") for s in surfaces)


def test_column_against_column_formulas_compare_two_columns_of_the_table():
    for t in wide_triples(20, seed=5, kind="ColLess"):
        left, right = t["rule"][1:].split("<")
        assert left.startswith("$") and right.lstrip("=").startswith("$")
        assert t["format"] == "rows"


def test_wide_novel_split_uses_held_out_pieces_only_there():
    train = wide_triples(200, seed=6, split="train")
    novel = wide_triples(100, seed=6, split="novel")
    assert not any(t["held_out"] for t in train)
    assert novel and all(t["held_out"] for t in novel)


def test_generate_mixes_wide_and_classic_triples():
    triples = generate(300, seed=7)
    wide = sum(t["kind"].endswith("/wide") for t in triples)
    assert 120 <= wide <= 240
    assert all(not t["kind"].endswith("/wide") for t in generate(50, seed=7, kinds={"GreaterThan": 1.0}))
    assert all(t["kind"].endswith("/wide") for t in generate(50, seed=7, wide_share=1.0))


def test_ngram_overlap_counts_shared_ngrams_and_near_copies():
    report = overlap_report(["highlight sales over 500", "dupes in SKU"],
                            ["highlight sales over 900 please", "show blanks"])
    assert report["reference_1grams_covered"] == pytest.approx(3 / 7, abs=1e-3)
    assert report["reference_3grams_covered"] == pytest.approx(1 / 3, abs=1e-3)
    assert 0 < report["nearest_3gram_jaccard_max"] < 1
    assert report["generated_equal_to_a_reference_request"] == 0
    assert overlap_report(["a b c d"], ["A b  c d"])["generated_equal_to_a_reference_request"] == 1

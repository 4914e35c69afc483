import numpy as np

from codefusion.tasks import get_task
from codefusion.tasks.code_candidates import Calibration, CodeCandidate, fit_calibration


def test_bash_neighbours_that_agree_outvote_a_closer_one_and_unparsable_codes_are_dropped():
    ranker = get_task("bash").ranker()
    neighbours = [("rm -rf 'x", "remove x", 0.95),                           # does not parse: never shown
                  ("ls -la /etc", "list /etc", 0.80),
                  ("find . -name '*.txt'", "find txt files", 0.78),
                  ("find /tmp -name '*.c'", "find c files in /tmp", 0.77)]
    ranked = ranker.rank("find all .log files in /var", (), neighbours, k=5)
    assert [c.code for c in ranked] == ["find /var -name '*.log'", "ls -la /var"]
    assert all(isinstance(c, CodeCandidate) and 0 <= c.confidence <= 1 for c in ranked)
    assert ranked[0].confidence > ranked[1].confidence
    assert ranked[0].origin == "neighbour"


def test_bash_model_code_joining_a_neighbour_template_is_one_candidate_from_both():
    ranker = get_task("bash").ranker()
    ranked = ranker.rank("count lines in data.csv", [("wc -l b.csv", -0.1), ("wc -l -- -", -3.0), ("wc (", -0.01)],
                         [("wc -l a.csv", "count lines of a.csv", 0.9)], k=5)
    assert ranked[0].code == "wc -l data.csv" and ranked[0].origin == "both"
    assert "wc (" not in [c.code for c in ranked]
    assert len({c.code for c in ranked}) == len(ranked)


def test_python_candidates_parse_and_take_the_request_literals():
    ranker = get_task("python").ranker()
    ranked = ranker.rank("split `text` on ','", [("x.split(", -0.1), ("text.split(',')", -0.2)],
                         [("s.split(';')", "split `s` on ';'", 0.9)], k=5)
    codes = [c.code for c in ranked]
    assert codes[0] == "text.split(',')" and ranked[0].origin == "both"
    assert "x.split(" not in codes


def test_postprocess_without_neighbours_keeps_parsing_model_codes_only():
    out = get_task("python").postprocess(["print(1", "sorted(x, key=len)", "sorted(x,key=len)"], [-0.1, -0.5, -0.6],
                                         "sort x by length", k=5)
    assert [c.code for c in out] == ["sorted(x, key=len)"]


def test_fit_calibration_orders_confidence_by_evidence():
    rng = np.random.default_rng(0)
    share = rng.random(400)
    sim = rng.random(400)
    correct = (rng.random(400) < 0.1 + 0.8 * share * sim).astype(float)
    cal = fit_calibration(np.stack([share, sim], 1), correct)
    assert isinstance(cal, Calibration)
    assert cal(0.9, 0.9) > cal(0.5, 0.5) > cal(0.1, 0.1)

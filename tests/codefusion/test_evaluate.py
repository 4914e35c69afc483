import json

import pytest

from codefusion import evaluate as ev
from codefusion.data import is_dev
from codefusion.tasks import Candidate

TABLE = [["Index", "Value"], [0, "10"], [1, "20"], [2, "30"], [3, "30"]]


class ScriptedSystem:
    """Test double for the System protocol: returns fixed candidates per request, records calls."""

    name = "scripted"

    def __init__(self, script: dict[str, list[str]]):
        self.script = script
        self.calls = []

    def generate(self, request, table=None, k=5):
        self.calls.append((request, table, k))
        codes = self.script[request]
        return [Candidate(code, -float(i)) for i, code in enumerate(codes)]


def _records(pairs, data=None):
    return [{"ID": i, "NL Utterance": nl, "Code": code, **({"Data": data} if data is not None else {})}
            for i, (nl, code) in enumerate(pairs)]


def test_system_protocol_is_structural():
    assert isinstance(ScriptedSystem({}), ev.System)
    assert not isinstance(object(), ev.System)


def test_cf_k_accounting_with_a_scripted_system():
    records = _records([("r1", "GreaterThan(15)"), ("r2", "top(1)"), ("r3", "ColorScale()")], data=TABLE)
    system = ScriptedSystem({
        "r1": ["LessThan(0)", "GreaterThanEqual(20)", "broken(("],          # hit at rank 2
        "r2": ["top(2)"],                                                    # one candidate, a tie-hit
        "r3": ["DataBar()", "IconSet()", "x(", "y(", "ColorScale()", "ColorScale()"],  # hit at 5; 6th cut
    })
    report = ev.evaluate(system, "cf", records, k=5, progress=False)
    m = report.metrics
    assert [call[2] for call in system.calls] == [5, 5, 5]
    assert all(call[1] == TABLE for call in system.calls)        # the record's Data is passed through
    assert (m["exec_match@1"], m["exec_match@3"], m["exec_match@5"]) == pytest.approx((1 / 3, 2 / 3, 1.0))
    assert m["valid@1"] == pytest.approx(1.0)
    assert m["valid@3"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert m["valid@5"] == pytest.approx((2 / 3 + 1 + 3 / 5) / 3)
    assert m["candidates_mean"] == pytest.approx((3 + 1 + 5) / 3)
    # distinct behaviours among parsing candidates: r1 2, r2 1, r3 DataBar/IconSet/ColorScale 3
    assert m["distinct_exec@5"] == pytest.approx(2.0)
    assert report.per_record[0]["exec_match_rank"] == 2
    assert report.per_record[2]["exec_match_rank"] == 5
    assert [c["valid"] for c in report.per_record[0]["candidates"]] == [True, True, False]
    assert report.counts == {"reference_fallback": 0, "reference_unparsed": 0}
    assert m["latency_ms_p95"] >= m["latency_ms_p50"] >= 0


def test_codefusion_system_passes_steps_and_seed():
    class FakeGenerator:
        def generate(self, request, table=None, k=5, steps=None, seed=None):
            return [Candidate(f"{request}|{table}|{k}|{steps}|{seed}", 0.0)]

    system = ev.CodeFusionSystem(FakeGenerator(), steps=7, seed=3)
    assert system.name == "codefusion"
    assert system.generate("req", table=[["h"]], k=2)[0].code == "req|[['h']]|2|7|3"


def test_k_smaller_than_five_reports_only_reachable_ks():
    records = _records([("r1", "GreaterThan(15)")], data=TABLE)
    system = ScriptedSystem({"r1": ["LessThan(0)", "GreaterThanEqual(20)", "top(1)"]})
    report = ev.evaluate(system, "cf", records, k=2, progress=False)
    assert system.calls[0][2] == 2
    assert {name for name in report.metrics if name.startswith("exec_match")} == {
        "exec_match@1", "exec_match@2", "exec_match_value@1", "exec_match_value@2"}
    assert report.metrics["exec_match@2"] == 1.0
    assert ev.reported_ks(5) == [1, 3, 5] and ev.reported_ks(10) == [1, 3, 5, 10]


def test_bash_metrics():
    records = _records([("b1", "find . -name '*.txt'\n"), ("b2", "ls -l | wc -l\n")])
    system = ScriptedSystem({
        "b1": ["find . -iname '*.txt'", "find /tmp -name '*.py'", "find . -name '*.txt'"],
        "b2": ["ls -l |  wc -l"],
    })
    m = ev.evaluate(system, "bash", records, k=5, progress=False).metrics
    assert (m["template_match@1"], m["template_match@3"]) == (0.5, 1.0)
    assert (m["exact_match@1"], m["exact_match@3"]) == (0.5, 1.0)
    assert "valid@1" not in m


def test_python_metrics():
    records = _records([("p1", "x = sorted(a, key=len)"), ("p2", "print(len(d))")])
    system = ScriptedSystem({
        "p1": ["x = sorted(a", "x = sorted(a, key=len)"],
        "p2": ["print(len(d))"],
    })
    m = ev.evaluate(system, "python", records, k=5, progress=False).metrics
    assert m["bleu@3"] == pytest.approx(100.0)
    assert 0 < m["bleu@1"] < 100
    assert (m["exact_match@1"], m["exact_match@3"]) == (0.5, 1.0)
    assert m["valid@1"] == 0.5 and m["valid@3"] == pytest.approx((1 / 2 + 1) / 2)


def _write(path, obj):
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_load_benchmark_splits_and_null_nl(tmp_path):
    records = _records([(f"nl {i}", f"code {i}") for i in range(60)]) + [
        {"ID": 99, "NL Utterance": None, "Code": "x"}, {"ID": 98, "NL Utterance": "  ", "Code": "y"}]
    listed = _write(tmp_path / "list.json", records)
    whole = ev.load_benchmark(listed, "python", "test")
    assert len(whole.records) == 60 and whole.skipped_null_nl == 2
    dev = ev.load_benchmark(listed, "python", "dev").records
    train = ev.load_benchmark(listed, "python", "train").records
    assert [r["ID"] for r in dev] == [r["ID"] for r in records[:60] if is_dev("python", r["ID"])]
    assert len(dev) + len(train) == 60 and dev

    keyed = _write(tmp_path / "keyed.json", {"train": records[:60], "test": records[:3]})
    assert len(ev.load_benchmark(keyed, "python", "test").records) == 3
    assert ev.load_benchmark(keyed, "python", "dev").records == dev   # carved from "train"
    with pytest.raises(ValueError, match="no split 'dev'"):
        ev.load_benchmark(_write(tmp_path / "t.json", {"test": []}), "python", "dev")


def test_load_benchmark_bad_input_says_what_and_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ev.load_benchmark(tmp_path / "missing.json", "cf")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        ev.load_benchmark(tmp_path / "bad.json", "cf")
    with pytest.raises(ValueError, match=r"record #1 needs the keys"):
        ev.load_benchmark(_write(tmp_path / "r.json", [{"NL Utterance": "a", "Code": "b"}, {"x": 1}]), "cf")
    with pytest.raises(SystemExit):
        ev.main(["--task", "cf", "--data", str(tmp_path / "missing.json"), "--system", "retrieval"])


@pytest.mark.slow
def test_cli_with_the_retrieval_baseline(tmp_path, capsys):
    from codefusion.baselines.retrieval import RetrievalSystem
    train = _records([("Format cells greater than 500", "GreaterThan(500)"),
                      ("Highlight cells less than 20", "LessThan(20)"),
                      ("Apply a colour scale", "ColorScale()")])
    RetrievalSystem.fit(train, task="cf").save(tmp_path / "index")
    test = _records([("Format cells greater than 15", "GreaterThan(15)"),
                     ("Highlight cells less than 25", "LessThan(25)"),
                     ("colour scale on the values", "ColorScale()"),
                     (None, "top(3)")], data=TABLE)
    bench = _write(tmp_path / "bench.json", {"test": test})
    out, preds = tmp_path / "m.json", tmp_path / "p.jsonl"
    assert ev.main(["--task", "cf", "--data", str(bench), "--system", "retrieval", "--checkpoint",
                    str(tmp_path / "index"), "-k", "3", "--json", str(out), "--predictions", str(preds),
                    "--no-progress"]) == 0
    result = json.loads(out.read_text())
    assert (result["task"], result["system"], result["n"], result["skipped_null_nl"]) == ("cf", "retrieval", 3, 1)
    assert result["metrics"]["exec_match@1"] == 1.0     # literals substituted from the request
    assert result["metrics"]["valid@3"] == 1.0
    assert "exec_match" in capsys.readouterr().out
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert [line["candidates"][0]["code"] for line in lines] == ["GreaterThan(15)", "LessThan(25)", "ColorScale()"]
    with pytest.raises(ValueError, match="built for task 'cf'"):
        ev.build_system("retrieval", "bash", str(tmp_path / "index"))

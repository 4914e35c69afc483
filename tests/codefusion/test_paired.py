"""benchmarks.paired: the paired comparison behind "CodeFusion against the autoregressive baseline"."""
import json

import pytest

from benchmarks.paired import compare, main, mcnemar_exact, read_ranks


def write(path, ranks):
    path.write_text("".join(json.dumps({"id": i, "exec_match_rank": r}) + "\n" for i, r in enumerate(ranks)))
    return str(path)


def test_mcnemar_exact_matches_the_binomial_tail():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)         # all six discordant records one way
    assert mcnemar_exact(12, 2) == mcnemar_exact(2, 12) == pytest.approx(2 * 106 / 2 ** 14)


def test_compare_counts_hits_and_discordant_records_at_each_k(tmp_path):
    a = read_ranks(write(tmp_path / "a.jsonl", [1, 2, None, 4, 1]), "exec_match")
    b = read_ranks(write(tmp_path / "b.jsonl", [1, None, 3, 1, 2]), "exec_match")
    rows = {r["k"]: r for r in compare([(a, b)])}
    assert (rows[1]["a"], rows[1]["b"], rows[1]["only_a"], rows[1]["only_b"]) == (2, 2, 1, 1)
    assert (rows[3]["a"], rows[3]["b"], rows[3]["only_a"], rows[3]["only_b"]) == (3, 4, 1, 2)
    assert (rows[5]["a"], rows[5]["b"], rows[5]["only_a"], rows[5]["only_b"]) == (4, 4, 1, 1)


def test_files_of_different_records_are_refused(tmp_path, capsys):
    a = write(tmp_path / "a.jsonl", [1, 2])
    b = write(tmp_path / "b.jsonl", [1])
    with pytest.raises(SystemExit, match="not the same evaluation"):
        main([a, b])
    with pytest.raises(SystemExit):
        main([a])                                               # files come in pairs
    assert main([a, a]) == 0 and "McNemar" in capsys.readouterr().out

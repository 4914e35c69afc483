"""End to end: train a tiny model (from-scratch encoder) on a toy mapping, then generate with it."""
import json
import warnings

import pytest

from codefusion import train
from codefusion.data import load_records, split_records
from codefusion.generate import load_generator

from ._toy_data import write_toy_data


@pytest.mark.slow
def test_tiny_model_learns_toy_mapping(tmp_path):
    data = write_toy_data(tmp_path / "data")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = train.main(["--task", "bash", "--config", "tiny", "--data", str(data), "--out", str(out),
                         "--pretrain-steps", "20", "--finetune-steps", "600", "--eval-every", "200", "--no-progress"])
    assert rc == 0
    for name in ("model.safetensors", "config.json", "tokenizer.json", "encoder_tokenizer.json",
                 "metrics.jsonl", "loss_curves.png", "last/train_state.pt"):
        assert (out / name).is_file(), name
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if r["stage"] in ("pretrain", "finetune")]
    assert {"loss", "diffusion", "decoder", "ce", "lr", "examples_per_s"} <= set(train_rows[-1])
    assert train_rows[-1]["loss"] < train_rows[0]["loss"] / 2
    assert any(r["stage"] == "eval" for r in rows)

    gen = load_generator("bash", out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_recs, _ = split_records("bash", load_records("bash", data))
    hits = 0
    for rec in train_recs:
        cands = gen.generate(rec.nl, k=3, seed=0)
        assert cands == sorted(cands, key=lambda c: -c.score)
        assert len({c.code for c in cands}) == len(cands)          # deduplicated
        hits += cands[0].code == rec.code
    assert hits >= 0.75 * len(train_recs), f"only {hits}/{len(train_recs)} training pairs reproduced"

    # the display trajectory: x_T, 5 steps, and the answer
    frames = list(gen.stream(train_recs[0].nl, k=2, steps=5, seed=1, display_steps=5))
    assert [f["step"] for f in frames] == list(range(7))
    answer = [c.code for c in frames[-1]["candidates"]]
    assert frames[-1]["final"] and frames[-1]["codes"] == answer
    assert all(len(f["codes"]) == len(answer) for f in frames)

    restarting = load_generator("bash", out, restart_t=100, restarts=2)   # tiny: T = 200
    frames = list(restarting.stream(train_recs[0].nl, k=2, steps=3, seed=1, display_steps=3))
    assert frames[-1]["candidates"] == restarting.generate(train_recs[0].nl, k=2, steps=3, seed=1)
    with pytest.raises(ValueError, match="restart_t"):
        load_generator("bash", out, restart_t=200)


def test_device_flag_resolves_and_refuses_a_missing_gpu():
    import torch
    assert train.resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert train.resolve_device("auto") == torch.device("cpu")
        with pytest.raises(SystemExit, match="no CUDA GPU"):
            train.resolve_device("cuda")


def test_synthetic_flag_sets_the_cf_data_size_and_is_refused_elsewhere():
    from codefusion.config import get_config
    from codefusion.tasks import get_task
    tcfg = get_config("cf-small").train
    train.apply_train_overrides(tcfg, train.parse_args(["--task", "cf", "--synthetic", "123"]))
    assert tcfg.synthetic_pairs == 123
    task = get_task("cf")
    train.configure_task(task, tcfg)
    assert task.synthetic_triples == 123
    untouched = get_task("cf")
    train.configure_task(untouched, get_config("cf-small").train)      # no --synthetic: the task's default
    assert untouched.synthetic_triples == 20000
    with pytest.raises(SystemExit, match="only cf has one"):
        train.configure_task(get_task("bash"), tcfg)
    tcfg.synthetic_pairs = -1
    with pytest.raises(SystemExit, match=">= 0"):
        train.configure_task(get_task("cf"), tcfg)

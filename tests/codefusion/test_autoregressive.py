"""The autoregressive baseline: learning, beam search, sampling, checkpoints, the evaluator's System protocol."""
import json
import math

import pytest
import torch

from codefusion import evaluate as ev
from codefusion.baselines import autoregressive as ar
from codefusion.config import get_config
from codefusion.data import Record
from codefusion.tasks import get_task
from codefusion.tokenizer import BOS_ID, EOS_ID, PAD_ID

# request -> rule; the cf adapter masks the numbers and quoted texts into placeholders
TOY = [
    ("highlight values greater than 10", "GreaterThan(10)"),
    ("highlight values less than 3", "LessThan(3)"),
    ("mark duplicate values", "Duplicate()"),
    ("mark unique values", "Unique()"),
    ("show a colour scale", "ColorScale()"),
    ("add data bars", "DataBar()"),
    ("cells that contain \"Done\"", "TextContains(Done)"),
    ("the top 5 values", "top(5)"),
    ("find blank cells", "Blanks()"),
    ("values between 2 and 9", "Between(2, 9)"),
]
# the same requests with other literals: the model must copy them through the placeholders
PROBES = [
    ("highlight values greater than 42", "GreaterThan(42)"),
    ("highlight values less than 7", "LessThan(7)"),
    ("mark duplicate values", "Duplicate()"),
    ("cells that contain \"Late\"", "TextContains(Late)"),
    ("the top 3 values", "top(3)"),
    ("values between 15 and 85", "Between(15, 85)"),
]


def _toy_configs():
    named = get_config("tiny")          # scratch request encoder: trains in seconds, no MiniLM needed
    named.model.max_code_len = 16
    cfg = ar.ARConfig.matching(named.model)
    tcfg = named.train
    tcfg.batch_size, tcfg.lr, tcfg.warmup_steps, tcfg.eval_every = 16, 3e-3, 20, 100
    return cfg, tcfg


def _toy_pairs():
    task = get_task("cf")
    return [ar.record_pair(task, Record(i, nl, code)) for i, (nl, code) in enumerate(TOY)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    cfg, tcfg = _toy_configs()
    pairs = _toy_pairs()
    out = tmp_path_factory.mktemp("ar-toy")
    result = ar.fit("cf", pairs, pairs, cfg, tcfg, plan={"pretrain": 0, "finetune": 300}, out=out,
                    log=lambda *a: None)
    system = ar.AutoregressiveSystem(result.model, result.encoder, result.tokenizer, get_task("cf"))
    return result, system, out


def test_teacher_forcing_shifts_and_ends_with_eos():
    ids = torch.tensor([[7, 8, 9, PAD_ID, PAD_ID, PAD_ID], [5, PAD_ID, PAD_ID, PAD_ID, PAD_ID, PAD_ID]])
    inputs, labels = ar.teacher_forcing(ids)
    assert inputs.tolist() == [[BOS_ID, 7, 8, 9], [BOS_ID, 5, PAD_ID, PAD_ID]]
    assert labels.tolist() == [[7, 8, 9, EOS_ID], [5, EOS_ID, ar.IGNORE, ar.IGNORE]]


def test_decoder_is_causal():
    cfg = ar.ARConfig(vocab_size=40, max_code_len=8, d_model=32, n_heads=2, encoder_layers=1, decoder_layers=2,
                      dropout=0.0, encoder="scratch")
    model = ar.Seq2SeqTransformer(cfg, encoder_dim=16).eval()
    states, mask = torch.randn(1, 3, 16), torch.ones(1, 3, dtype=torch.bool)
    a = torch.tensor([[10, 11, 12, 13, 14, 15, 16]])
    b = torch.tensor([[10, 11, 12, 30, 31, 32, 33]])       # same first three tokens
    la, lb = model(states, mask, a), model(states, mask, b)
    assert torch.allclose(la[:, :4], lb[:, :4], atol=1e-5)   # positions 0..3 read [BOS] + 10 11 12 only
    assert not torch.allclose(la[:, 4:], lb[:, 4:], atol=1e-3)


def test_param_counts_match_codefusion_within_15_percent():
    report = ar.parameter_report("cf-small")
    assert abs(report["autoregressive"] - report["codefusion"]) / report["codefusion"] < 0.15
    assert report["autoregressive_layers"] == {"encoder": 2, "decoder": 4}


@pytest.mark.slow
def test_untrained_model_does_not_know_the_mapping():
    # control for the learning test below: the same network before training gets the toy mapping wrong
    cfg, tcfg = _toy_configs()
    pairs = _toy_pairs()
    result = ar.fit("cf", pairs, pairs, cfg, tcfg, plan={"pretrain": 0, "finetune": 1}, log=lambda *a: None)
    system = ar.AutoregressiveSystem(result.model, result.encoder, result.tokenizer, get_task("cf"))
    raw = system.decode_raw([nl for nl, _ in TOY], k=1)
    assert sum(codes[0][0] == target for codes, (_, target) in zip(raw, pairs)) <= 2


@pytest.mark.slow
def test_tiny_run_learns_the_toy_mapping(trained):
    result, system, _ = trained
    losses = [row["loss"] for row in result.history if row.get("stage") == "finetune"]
    assert losses[-1] < 0.2 * losses[0]
    # the raw model (before postprocessing) writes each masked target as its best beam
    raw = system.decode_raw([nl for nl, _ in TOY], k=3)
    targets = [target for _, target in _toy_pairs()]
    assert sum(codes[0][0] == t for codes, t in zip(raw, targets)) >= 9
    # through the task adapter: literals restored, for requests with literals it never saw
    # (a top score below -1 would be the adapter's keyword fallback, which needs no model)
    tops = [system.generate(nl, k=3)[0] for nl, _ in PROBES]
    hits = [top.code == gold and top.score > -1.0 for top, (_, gold) in zip(tops, PROBES)]
    assert sum(hits) >= 5, tops
    assert result.best["dev_em"] >= 0.9


@pytest.mark.slow
def test_beam_search_returns_k_distinct_sequences_best_first(trained):
    _, system, _ = trained
    states, mask = system.encoder([get_task("cf").source_text("mark unique values")])
    out = system.model.beam_search(states, mask, k=6)
    assert out.ids.shape == (1, 6, system.model.cfg.max_code_len)
    seqs = [tuple(row.tolist()) for row in out.ids[0]]
    assert len(set(seqs)) == 6
    scores = out.scores[0].tolist()
    assert all(math.isfinite(s) and s <= 0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    # the score is the mean log-prob of the sequence with its [EOS], as teacher forcing computes it
    best = out.ids[0, 0]
    length = int((best != PAD_ID).sum())
    target = best.clone()
    target[length - 1] = PAD_ID                              # drop [EOS]: teacher_forcing adds it back
    with torch.no_grad():
        logits = system.model(states, mask, target[None])
    _, labels = ar.teacher_forcing(target[None])
    logp = logits.log_softmax(-1).gather(-1, labels.clamp(min=0)[..., None])[..., 0][labels != ar.IGNORE]
    assert scores[0] == pytest.approx(float(logp.mean()), abs=1e-4)
    # batched: two requests at once give each the same beams as alone
    states2, mask2 = system.encoder([get_task("cf").source_text(r) for r in ("add data bars", "mark unique values")])
    both = system.model.beam_search(states2, mask2, k=6)
    assert torch.equal(both.ids[1], out.ids[0])


@pytest.mark.slow
def test_generate_candidates_are_distinct_ranked_and_parse(trained):
    from cf_rules.parser import parse
    _, system, _ = trained
    for request in ("highlight values greater than 42", "values between 15 and 85", "find blank cells"):
        cands = system.generate(request, k=5)
        assert 1 <= len(cands) <= 5
        codes = [c.code for c in cands]
        assert len(set(codes)) == len(codes)
        # best first by the CF ranking (not by score alone); the siblings that fill k come last
        assert [c.sibling for c in cands] == sorted(c.sibling for c in cands)
        for code in codes:
            parse(code)                                     # raises when a candidate is not a rule
    assert isinstance(system, ev.System)
    with pytest.raises(ValueError, match="k must be"):
        system.generate("mark unique values", k=0)
    with pytest.raises(ValueError, match="non-empty"):
        system.generate("   ")


@pytest.mark.slow
def test_sampling_is_seeded_and_scored(trained):
    _, system, _ = trained
    a = system.decode_raw(["mark duplicate values"], k=8, method="sample", seed=3)[0]
    b = system.decode_raw(["mark duplicate values"], k=8, method="sample", seed=3)[0]
    assert a == b and len(a) == 8
    assert all(s <= 0 for _, s in a)
    assert sum(code == "Duplicate()" for code, _ in a) >= 4     # a trained model mostly samples its answer
    cands = system.generate("mark duplicate values", k=8, method="sample", seed=3)
    assert cands[0].code == "Duplicate()"


@pytest.mark.slow
def test_save_load_round_trip(trained, tmp_path):
    result, system, out = trained
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "encoder_tokenizer.json", "metrics.jsonl"} <= names
    meta = json.loads((out / "config.json").read_text())
    assert meta["kind"] == "autoregressive" and meta["task"] == "cf" and meta["encoder_weights_saved"]
    assert meta["weights_dtype"] == "float16"
    loaded = ar.load_system("cf", out)
    # weights are stored as float16: the loaded ones are the trained ones rounded, back in float32
    for (name, p), (name2, q) in zip(result.model.state_dict().items(), loaded.model.state_dict().items()):
        assert name == name2 and q.dtype == p.dtype and torch.equal(p.half().float(), q)
    for request, _ in PROBES:
        ours, theirs = system.generate(request, k=4), loaded.generate(request, k=4)
        assert [c.code for c in ours] == [c.code for c in theirs]
        assert [c.score for c in ours] == pytest.approx([c.score for c in theirs], abs=2e-3)
    # a second save of the loaded model is bit-identical: nothing drifts from round trip to round trip
    ar.save_ar_checkpoint(tmp_path, loaded.model, loaded.encoder, loaded.tokenizer,
                          ar.load_ar_checkpoint(out).train_cfg, "cf", extra={"best_step": meta["best_step"]})
    assert (tmp_path / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()
    assert ar.load_system("cf", tmp_path).generate("mark unique values", k=3) == loaded.generate("mark unique values", k=3)
    # also through the evaluator's own entry point
    evaluated = ev.build_system("autoregressive", "cf", checkpoint=str(out))
    assert evaluated.name == "autoregressive"
    assert evaluated.generate("mark unique values", k=2) == loaded.generate("mark unique values", k=2)


def test_load_errors_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing config.json"):
        ar.load_system("cf", tmp_path)
    for name in ("model.safetensors", "tokenizer.json"):
        (tmp_path / name).write_text("")
    (tmp_path / "config.json").write_text(json.dumps({"task": "cf", "model": {}}))   # a CodeFusion checkpoint
    with pytest.raises(ValueError, match="not an autoregressive checkpoint"):
        ar.load_system("cf", tmp_path)
    with pytest.raises(ValueError, match="unknown task"):
        ar.load_system("sql", tmp_path)
    with pytest.raises(ValueError, match="divisible"):
        ar.ARConfig(d_model=30, n_heads=4)

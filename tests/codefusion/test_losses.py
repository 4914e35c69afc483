import dataclasses

import torch

from codefusion.config import get_config
from codefusion.losses import loss_terms, position_weights, training_loss
from codefusion.model import CodeFusion


def fake_out(B=2, L=6, D=4, V=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(B, L, D, generator=g)
    return {"x0": x0, "x0_pred": x0 + 0.1 * torch.randn(B, L, D, generator=g),
            "dec_states": x0 + 0.2 * torch.randn(B, L, D, generator=g),
            "logits": torch.randn(B, L, V, generator=g), "raw": torch.randn(B, L, D, generator=g),
            "noise": torch.randn(B, L, D, generator=g)}


IDS = torch.tensor([[5, 6, 7, 0, 0, 0], [8, 9, 0, 0, 0, 0]])


def test_terms_are_finite_and_sum_with_weights():
    out = fake_out()
    t = loss_terms(out, IDS, weights={"diffusion": 2.0, "decoder": 0.5, "ce": 1.0})
    assert all(torch.isfinite(v) for v in t.values())
    assert torch.allclose(t["loss"], 2.0 * t["diffusion"] + 0.5 * t["decoder"] + t["ce"])


def test_each_term_responds_to_its_own_input_only():
    base = loss_terms(fake_out(), IDS)
    for key, term in (("x0_pred", "diffusion"), ("dec_states", "decoder"), ("logits", "ce")):
        out = fake_out()
        out[key] = out[key] + torch.randn(out[key].shape, generator=torch.Generator().manual_seed(9))
        moved = loss_terms(out, IDS)
        for other in ("diffusion", "decoder", "ce"):
            changed = not torch.isclose(moved[other], base[other])
            assert changed == (other == term), (key, other)


def test_noise_mode_regresses_noise():
    out = fake_out()
    out["raw"] = out["noise"].clone()
    assert loss_terms(out, IDS, predict="noise")["diffusion"] == 0
    assert loss_terms(out, IDS, predict="x0")["diffusion"] > 0


def test_perfect_predictions_give_near_zero_loss():
    out = fake_out()
    out["x0_pred"] = out["x0"]
    out["dec_states"] = out["x0"]
    out["logits"] = torch.nn.functional.one_hot(IDS, 10).float() * 50
    t = loss_terms(out, IDS)
    assert t["loss"] < 1e-6


def test_pads_are_targets_with_first_pad_full_weight():
    w = position_weights(IDS, 0.25)
    assert w.tolist() == [[1, 1, 1, 1, 0.25, 0.25], [1, 1, 1, 0.25, 0.25, 0.25]]
    out = fake_out()
    wrong_pad = loss_terms(out, IDS)["ce"]
    out["logits"][:, :, 0] += 20   # predicting pad everywhere helps only at pad positions
    assert loss_terms(out, torch.zeros_like(IDS))["ce"] < wrong_pad


def test_training_loss_on_a_model_and_a_step_lowers_it():
    cfg = dataclasses.replace(get_config("tiny").model, vocab_size=20)
    torch.manual_seed(0)
    m = CodeFusion(cfg, encoder_dim=8)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    ids = torch.randint(1, 20, (8, 8))
    ids[:, 5:] = 0
    states, mask = torch.randn(8, 3, 8), torch.ones(8, 3, dtype=torch.bool)
    t = torch.full((8,), 50)

    def loss():
        return training_loss(m, ids, m.project_source(states), mask, torch.Generator().manual_seed(0), t=t)
    first = loss()
    params = list(m.parameters())
    for _ in range(30):
        grads = torch.autograd.grad(loss()["loss"], params, allow_unused=True)
        for param, grad in zip(params, grads):
            param.grad = grad
        opt.step()
    last = loss()
    assert last["loss"] < first["loss"] and last["ce"] < first["ce"]

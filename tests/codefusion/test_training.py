"""codefusion.training: the step plan, the schedule, and the two-stage loop run over a stand-in model."""
from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
import torch

from codefusion import training
from codefusion.config import TrainConfig
from codefusion.tasks import get_task

REPO = Path(__file__).resolve().parents[2]


class ScalarTrainee:
    """One parameter pulled towards each batch's mean id; it decodes every request as `answer`."""

    def __init__(self, answer: str = "ls"):
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.answer = answer
        self.batches: list[tuple[list[int], list[str], list[bool]]] = []

    def train(self, mode: bool = True):
        pass

    def loss(self, ids, texts, uncond, generator):
        self.batches.append((ids[:, 0].tolist(), list(texts), uncond.tolist()))
        return {"loss": (self.weight - ids.float().mean()).pow(2).sum()}

    def dev_loss(self, ids, sources):
        return {"dev_loss": float((self.weight.detach() - ids.float().mean()).pow(2))}

    def decode(self, sources):
        return [self.answer for _ in sources]


def toy_data() -> training.TrainingTensors:
    train_ids = torch.arange(1, 9).view(8, 1).repeat(1, 4)
    return training.TrainingTensors(
        train_ids=train_ids, train_src=[f"request {i}" for i in range(8)], train_targets=["ls"] * 8,
        dev_ids=train_ids[:4], dev_src=[f"request {i}" for i in range(4)], dev_targets=["ls", "ls", "pwd", "pwd"],
        snip_ids=torch.arange(20, 26).view(6, 1).repeat(1, 4), snip_masked=[f"masked {i}" for i in range(6)])


def toy_config(**overrides) -> TrainConfig:
    values = {"batch_size": 4, "lr": 0.1, "warmup_steps": 1, "log_every": 1, "eval_every": 5, "save_every": 1000,
              "weight_decay": 0.0}
    return TrainConfig(**{**values, **overrides})


def run(trainee, plan, state=None, **options):
    tcfg = options.pop("tcfg", toy_config())
    rows, best = [], []
    optimizer = training.make_optimizer([trainee.weight], tcfg)
    state = training.run_stages(trainee, toy_data(), get_task("bash"), tcfg, plan, optimizer, [trainee.weight],
                                state or training.new_state(), device=torch.device("cpu"),
                                on_best=lambda step, metrics: best.append((step, metrics)), record=rows.append,
                                log=lambda *a: None, progress=False, **options)
    return state, rows, best


def test_plan_steps_splits_a_cap_in_the_config_proportion():
    tcfg = TrainConfig(pretrain_steps=100, finetune_steps=300)
    assert training.plan_steps(tcfg, "all", None) == {"pretrain": 100, "finetune": 300}
    assert training.plan_steps(tcfg, "all", 40) == {"pretrain": 10, "finetune": 30}
    assert training.plan_steps(tcfg, "finetune", None) == {"pretrain": 0, "finetune": 300}
    assert training.plan_steps(TrainConfig(pretrain_steps=100, finetune_steps=1), "all", 1) == {"pretrain": 0, "finetune": 1}


def test_lr_warms_up_then_decays_to_a_tenth_and_follows_the_clock():
    assert training.lr_factor(0, 100, 10) == pytest.approx(0.1)
    assert training.lr_factor(9, 100, 10) == pytest.approx(1.0)
    assert training.lr_factor(100, 100, 10) == pytest.approx(0.1)
    early = training.lr_factor(20, 100, 10)
    assert training.lr_factor(20, 100, 10, time_progress=0.9) < early     # out of time: anneal anyway


def test_stages_draw_their_own_data_and_evaluate_on_schedule():
    trainee = ScalarTrainee()
    state, rows, best = run(trainee, {"pretrain": 3, "finetune": 6})
    assert state["step"] == 9 and state["stage_step"] == {"pretrain": 3, "finetune": 6}
    pretrain, finetune = trainee.batches[:3], trainee.batches[3:]
    assert all(set(ids) <= set(range(20, 26)) and all(t.startswith("masked") for t in texts) for ids, texts, _ in pretrain)
    assert any(any(uncond) for _, _, uncond in pretrain)                  # stage 1 trains some rows unconditionally
    assert all(set(ids) <= set(range(1, 9)) and not any(uncond) for ids, _, uncond in finetune)
    assert [r["step"] for r in rows if r["stage"] == "eval"] == [5, 9]    # every 5 steps, and the final state
    assert [r["stage"] for r in rows if r["stage"] != "eval"] == ["pretrain"] * 3 + ["finetune"] * 6
    evals = [r for r in rows if r["stage"] == "eval"]
    assert all(r["dev_em"] == 0.5 for r in evals)                         # 2 of the 4 dev targets are "ls"
    assert best[0][0] == 5 and state["best"][0] == 0.5


def test_model_selection_takes_each_new_lowest_dev_loss_at_equal_exact_match():
    trainee = ScalarTrainee(answer="pwd")
    state, rows, best = run(trainee, {"pretrain": 0, "finetune": 12}, tcfg=toy_config(eval_every=2))
    evals = [(r["step"], r["dev_loss"]) for r in rows if r["stage"] == "eval"]
    assert [step for step, _ in evals] == [2, 4, 6, 8, 10, 12]
    new_lows = [step for i, (step, loss) in enumerate(evals) if all(loss < earlier for _, earlier in evals[:i])]
    assert [step for step, _ in best] == new_lows
    assert state["best"] == [0.5, -min(loss for _, loss in evals)]


def test_a_stopped_run_resumed_from_its_state_draws_the_same_batches():
    straight = ScalarTrainee()
    run(straight, {"pretrain": 4, "finetune": 8})
    split = ScalarTrainee()
    state, _, _ = run(split, {"pretrain": 4, "finetune": 8}, stop_at_step=6)
    assert state["step"] == 6
    run(split, {"pretrain": 4, "finetune": 8}, state=copy.deepcopy(state))
    assert split.batches == straight.batches


def test_a_spent_time_limit_ends_both_stages_before_any_step():
    trainee = ScalarTrainee()
    state, rows, best = run(trainee, {"pretrain": 5, "finetune": 5}, time_limit=1e-9)
    assert state["step"] == 0 and trainee.batches == []
    assert [r["stage"] for r in rows] == ["eval"] and len(best) == 1       # the untrained state is still selected


def test_finetuning_without_a_fitting_pair_is_refused():
    data = toy_data()
    data.train_ids = data.train_ids[:0]
    with pytest.raises(ValueError, match="no training pair fits"):
        training.run_stages(ScalarTrainee(), data, get_task("bash"), toy_config(), {"pretrain": 0, "finetune": 3},
                            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), [], training.new_state(),
                            device=torch.device("cpu"), on_best=lambda *a: None)


def test_exact_match_compares_the_task_normal_forms():
    assert training.exact_match(get_task("bash"), ["ls  -l", "pwd"], ["ls -l", "cd"]) == 0.5


def backward_callers() -> list[str]:
    callers = []
    for package in ("cf_rules", "codefusion", "cf_service", "benchmarks", "scripts"):
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(isinstance(node, ast.Attribute) and node.attr == "backward" for node in ast.walk(tree)):
                callers.append(path.relative_to(REPO).as_posix())
    return callers


def test_one_training_loop_calls_backward():
    assert backward_callers() == ["codefusion/training.py"]

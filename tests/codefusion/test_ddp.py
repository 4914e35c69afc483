"""torchrun DDP (gloo, CPU): two ranks train a tiny model for a few steps; rank 0 saves."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._toy_data import write_toy_data

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_rank_ddp_run(tmp_path):
    data = write_toy_data(tmp_path / "data")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           "-m", "codefusion.train", "--task", "bash", "--config", "tiny", "--data", str(data), "--out", str(out),
           "--pretrain-steps", "4", "--finetune-steps", "6", "--eval-every", "5", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "rank 0/2: finished at step 10" in log and "rank 1/2: finished at step 10" in log
    assert (out / "model.safetensors").is_file() and (out / "last" / "train_state.pt").is_file()
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 10

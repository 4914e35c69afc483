"""A toy data dir for the CodeFusion core tests: "make it N" -> "top -n N" (written as a bash task, so the
test does not depend on the CF adapter's literal masking; the codes are valid Bash, since the Bash adapter
returns only candidates that bashlex parses)."""
import json
from pathlib import Path

NUMBERS = [3, 7, 12, 25, 40, 58, 81, 96, 5, 64, 19, 33]


def toy_pairs():
    return [(f"make it {n}", f"top -n {n}") for n in NUMBERS]


def write_toy_data(root: Path, task: str = "bash") -> Path:
    train = root / "codefusion" / "train"
    train.mkdir(parents=True, exist_ok=True)
    records = [{"ID": i, "NL Utterance": nl, "Code": code} for i, (nl, code) in enumerate(toy_pairs())]
    records.append({"ID": 999, "NL Utterance": None, "Code": "ls"})   # null NL: skipped with a warning
    (train / f"{task}_train.json").write_text(json.dumps(records))
    return root

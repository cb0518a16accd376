"""Question sets for evaluation and calibration: JSON lines of {"q", "lang", "topic"} (topic null = decline)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.settings import PROJECT_ROOT

OWN_SETS = PROJECT_ROOT / "tests" / "qa"
SHARED_DEV = PROJECT_ROOT.parent / "shared" / "qa" / "dev_questions.jsonl"
TUNING = OWN_SETS / "tuning.jsonl"
HELDOUT = OWN_SETS / "heldout.jsonl"
# Every tuning*.jsonl fits the model; every heldout*.jsonl only sets the threshold and is reported;
# every unseen*.jsonl (written from the topic map alone, without reading the articles) is only reported.
TUNING_SETS = sorted(OWN_SETS.glob("tuning*.jsonl"))
HELDOUT_SETS = sorted(OWN_SETS.glob("heldout*.jsonl"))
UNSEEN_SETS = sorted(OWN_SETS.glob("unseen*.jsonl"))


def read_set(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_sets(paths: list[Path]) -> list[dict[str, object]]:
    return [row for path in paths for row in read_set(path)]

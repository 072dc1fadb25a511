"""When to stop forgetting.  A model retrained without the forget set still
classifies those utterances about as well as unseen data, so the target is
the source model's held-out accuracy, not zero: a forget set scored far
below unseen data is itself a sign that it was once trained on."""

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

# Which held-out set stands for the forget set after retraining: unseen
# utterances of seen speakers, or unseen speakers.
REFERENCE_SET = {"utterance": "heldout", "speaker": "valid"}


def _best_valid_from_log(model_dir: Path, metric: str) -> Optional[float]:
    """Best validation value from an ESPnet training log (train.log)."""
    log = model_dir / "train.log"
    if not log.is_file():
        return None
    pattern = re.compile(r"\[valid\].*?\b" + metric + r"=([0-9.eE+-]+)")
    values = [float(m.group(1)) for m in map(pattern.search, log.read_text(errors="replace").splitlines()) if m]
    if not values:
        return None
    return max(values) if metric == "acc" else min(values)


# Beside an unlearned model whose source had no reference_stats.json: the
# best validation figures of the source's training log, so that a later
# request served from the unlearned model (which has no training log of its
# own) stops at the same 'auto' target.
LOG_REFERENCE_FILE = "train_log_reference.json"


def log_reference(model_dir) -> Optional[dict]:
    """The best validation accuracy and loss a model's training log holds (or
    the copy of them that came along with it); None without either."""
    model_dir = Path(model_dir)
    carried = model_dir / LOG_REFERENCE_FILE
    if carried.is_file():
        return json.loads(carried.read_text())
    acc, loss = _best_valid_from_log(model_dir, "acc"), _best_valid_from_log(model_dir, "loss")
    if acc is None and loss is None:
        return None
    return {"acc": acc, "loss": loss, "train_log": str(model_dir / "train.log")}


def resolve_target(target, metric: str, model_dir, request: str) -> Tuple[float, str]:
    """The stopping target and a sentence saying where it came from.

    target: a number, or "auto" for the source model's own held-out figure
    (reference_stats.json of stage 4; else the best validation value in its
    training log).  metric: "acc" (stop at or below) or "loss" (median
    per-utterance loss, stop at or above)."""
    if str(target) != "auto":
        return float(target), "given"
    model_dir = Path(model_dir)
    ref_set = REFERENCE_SET[request]
    stats_file = model_dir / "reference_stats.json"
    if stats_file.is_file():
        stats = json.loads(stats_file.read_text())["sets"].get(ref_set)
        if stats is not None:
            value = stats["accuracy"] if metric == "acc" else stats["loss_quantiles"]["0.5"]
            return float(value), f"{ref_set} {'accuracy' if metric == 'acc' else 'median loss'} in {stats_file}"
    reference = log_reference(model_dir)
    value = None if reference is None else reference["acc" if metric == "acc" else "loss"]
    if value is None:
        raise ValueError(
            f"forget target 'auto': {model_dir} has neither reference_stats.json nor a training log "
            f"with validation results (nor {LOG_REFERENCE_FILE}); give a number instead"
        )
    what = "accuracy" if metric == "acc" else "loss (mean, standing in for the median)"
    carried = "" if (model_dir / "train.log").is_file() else f", carried in {model_dir / LOG_REFERENCE_FILE}"
    note = f"best validation {what} in {reference['train_log']} (no reference_stats.json{carried})"
    logging.warning(f"forget target: using the {note}")
    return value, note


@dataclass
class StopRule:
    metric: str  # "acc" or "loss"
    target: float
    max_steps: int

    def reached(self, accuracy: float, median_loss: float) -> bool:
        if self.metric == "acc":
            return accuracy <= self.target
        return median_loss >= self.target

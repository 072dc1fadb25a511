"""When to stop forgetting.  A model retrained without the forget set still
classifies those utterances about as well as unseen data, so the target is
the source model's held-out accuracy, not zero: a forget set scored far
below unseen data is itself a sign that it was once trained on.

stop_metric distribution asks more than an accuracy: that the forget set's
per-utterance losses can no longer be told from the held-out losses that
stage 4 recorded (their percentiles in reference_stats.json, numbers only),
by a two-sample Kolmogorov-Smirnov test.  It stops once the distance between
the two distributions is at most the one that a held-out sample of the
forget set's size exceeds with probability stop_alpha, the test's level:
at 0.05, the test no longer rejects that the two come from one
distribution.  A stricter 0.5 (no further than a typical held-out sample)
was out of reach under the projection on the over-fitted built-in model
(docs/design.md, "Forgetting as a distribution")."""

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

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


# A reference of fewer utterances says too little of a distribution to stop on.
MIN_REFERENCE_UTTS = 20


@dataclass(frozen=True)
class LossReference:
    """The held-out per-utterance losses as stage 4 recorded them: values at
    quantile levels, and how many utterances they summarise."""
    levels: Tuple[float, ...]
    values: Tuple[float, ...]
    num_utts: int
    note: str

    def cdf(self, x) -> np.ndarray:
        """The share of held-out losses at or below x, linear between the
        recorded quantiles (0 below the lowest and 1 above the highest)."""
        levels = np.r_[0.0, self.levels, 1.0]
        values = np.r_[self.values[0], self.values, self.values[-1]]
        return np.interp(np.asarray(x, float), values, levels)

    def quantile(self, q) -> np.ndarray:
        return np.interp(np.asarray(q, float), self.levels, self.values)


def loss_reference(model_dir, request: str) -> LossReference:
    """The held-out loss distribution that stands for the forget set after
    retraining (REFERENCE_SET), from reference_stats.json beside the model."""
    stats_file = Path(model_dir) / "reference_stats.json"
    ref_set = REFERENCE_SET[request]
    if not stats_file.is_file():
        raise ValueError(f"--stop_metric distribution compares the forget set's losses with the held-out ones "
                         f"that stage 4 records in reference_stats.json, and {stats_file} does not exist (a model "
                         "trained elsewhere has none): use --stop_metric acc")
    stats = json.loads(stats_file.read_text()).get("sets", {}).get(ref_set)
    if stats is None:
        raise ValueError(f"{stats_file} has no '{ref_set}' set, the reference of a {request} request")
    n = int(stats.get("num_utts", 0))
    if n < MIN_REFERENCE_UTTS:
        raise ValueError(f"--stop_metric distribution: the '{ref_set}' reference in {stats_file} summarises {n} "
                         f"utterances, fewer than {MIN_REFERENCE_UTTS}: too few to test a distribution against; "
                         "use --stop_metric acc, or hold out more utterances at stage 1 (--heldout_per_spk)")
    table = stats.get("loss_percentiles") or stats["loss_quantiles"]
    levels = sorted(table, key=float)
    return LossReference(tuple(float(q) for q in levels), tuple(float(table[q]) for q in levels), n,
                         f"{ref_set} losses of {n} utterances in {stats_file}")


def ks_distance(losses: Sequence[float], reference: LossReference) -> float:
    """sup |F_forget - F_reference| over the losses (both sides of each step
    of the forget set's empirical distribution)."""
    x = np.sort(np.asarray(losses, float))
    n = len(x)
    ref = reference.cdf(x)
    return float(max(np.max(np.arange(1, n + 1) / n - ref), np.max(ref - np.arange(n) / n)))


def ks_critical(n: int, m: int, alpha: float) -> float:
    """The two-sample distance exceeded with probability alpha when both
    samples (n and m) come from one distribution (the asymptotic
    Kolmogorov distribution)."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


@dataclass
class StopRule:
    metric: str  # "acc", "loss" or "distribution"
    target: float  # accuracy at most, median loss at least, or distance at most
    max_steps: int
    reference: Optional[LossReference] = None  # metric distribution

    def distance(self, losses) -> Optional[float]:
        """The forget losses' Kolmogorov-Smirnov distance to the held-out ones
        (None without a reference)."""
        return None if self.reference is None else ks_distance(losses, self.reference)

    def statistic(self, accuracy: float, median_loss: float, losses=None) -> float:
        if self.metric == "acc":
            return accuracy
        if self.metric == "loss":
            return median_loss
        if losses is None:
            raise ValueError("stop_metric distribution needs the forget set's per-utterance losses")
        return self.distance(losses)

    def reached(self, accuracy: float, median_loss: float, losses=None) -> bool:
        value = self.statistic(accuracy, median_loss, losses)
        return value >= self.target if self.metric == "loss" else value <= self.target

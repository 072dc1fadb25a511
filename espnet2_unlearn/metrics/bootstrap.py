"""Paired bootstrap intervals over utterances.

Two models scored on the same utterances are compared on the same
resamples: each resample draws utterance indices with replacement, both
models' figures are computed on it, and the 2.5th and 97.5th percentiles of
the difference give the 95 % interval.  Resampling pairs keeps the
correlation between the models, which is what makes the interval of a small
difference between two related models narrow.
"""

from typing import Dict, Optional, Sequence

import numpy as np

NUM_RESAMPLES = 1000
# Below this many utterances a percentile interval says little; the cell
# says so instead of printing one.
MIN_UTTS = 10


def resample_indices(n: int, seed: int, num_resamples: int = NUM_RESAMPLES) -> np.ndarray:
    """(num_resamples, n) utterance indices; the same seed and n give the same
    resamples, so every model is measured on the same draws."""
    return np.random.default_rng([seed, n]).integers(0, n, size=(num_resamples, n))


def resampled_accuracy(correct: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Accuracy (or any share of a 0/1 per-utterance outcome) per resample."""
    return np.asarray(correct, float)[idx].mean(axis=1)


def resampled_uar(refs: np.ndarray, correct: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in each resample."""
    refs, correct = np.asarray(refs), np.asarray(correct, bool)
    recalls, present = [], []
    for c in np.unique(refs):
        in_class = (refs == c)[idx].sum(axis=1)
        hits = (correct & (refs == c))[idx].sum(axis=1)
        recalls.append(np.divide(hits, in_class, out=np.zeros(len(idx)), where=in_class > 0))
        present.append(in_class > 0)
    recalls, present = np.array(recalls), np.array(present)
    return recalls.sum(axis=0) / present.sum(axis=0)


def interval(point: float, resampled: np.ndarray, n: int) -> Dict[str, Optional[float]]:
    """A point value (in points, i.e. x100) with its 95 % percentile interval,
    or no interval when n is below MIN_UTTS."""
    if n < MIN_UTTS:
        return {"value": 100 * point, "low": None, "high": None, "n": n}
    low, high = np.percentile(resampled, [2.5, 97.5])
    return {"value": 100 * point, "low": 100 * float(low), "high": 100 * float(high), "n": n}


def paired_difference(outcome_a: Sequence, outcome_b: Sequence, seed: int, refs: Optional[Sequence] = None):
    """Difference a - b of accuracy (refs None) or UAR (refs given) between two
    models' per-utterance correctness on the same utterances, in points, with
    its paired 95 % interval."""
    a, b = np.asarray(outcome_a, bool), np.asarray(outcome_b, bool)
    if len(a) != len(b):
        raise ValueError(f"paired comparison of {len(a)} and {len(b)} utterances")
    n = len(a)
    if n == 0:
        raise ValueError("paired comparison of no utterances")
    idx = resample_indices(n, seed)
    if refs is None:
        da = resampled_accuracy(a, idx) - resampled_accuracy(b, idx)
        point = a.mean() - b.mean()
    else:
        full = np.arange(n)[None, :]
        da = resampled_uar(refs, a, idx) - resampled_uar(refs, b, idx)
        point = float(resampled_uar(refs, a, full)[0] - resampled_uar(refs, b, full)[0])
    return interval(float(point), da, n)


def single(outcome: Sequence, seed: int, refs: Optional[Sequence] = None):
    """One model's accuracy or UAR, in points, with its 95 % interval."""
    a = np.asarray(outcome, bool)
    n = len(a)
    idx = resample_indices(n, seed)
    if refs is None:
        return interval(float(a.mean()), resampled_accuracy(a, idx), n)
    return interval(float(resampled_uar(refs, a, np.arange(n)[None, :])[0]), resampled_uar(refs, a, idx), n)


def format_interval(d: Dict, signed: bool = True) -> str:
    """`−0.4 [−1.1, +0.3]`, or `−0.4 (n=1: too few for an interval)`."""
    def f(x):
        s = f"{x:+.1f}" if signed else f"{x:.1f}"
        return s.replace("-", "\u2212")
    if d.get("low") is None:
        return f"{f(d['value'])} (n={d['n']}: too few for an interval)"
    return f"{f(d['value'])} [{f(d['low'])}, {f(d['high'])}]"

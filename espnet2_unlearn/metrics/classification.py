"""Accuracy, unweighted average recall (UAR) and macro-F1 from labels, by
scikit-learn, over the classes present in the references."""

from typing import Dict, Sequence

import numpy as np
from sklearn import metrics


def confusion_matrix(refs: Sequence[str], hyps: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Rows are reference classes, columns predicted classes."""
    return metrics.confusion_matrix(list(refs), list(hyps), labels=list(classes))


def classification_scores(refs: Sequence[str], hyps: Sequence[str], classes: Sequence[str]) -> Dict[str, float]:
    """Accuracy, UAR (mean recall over the classes present in refs) and
    macro-F1 (over the same classes; a class never predicted has F1 0)."""
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} predictions")
    present = [c for c in classes if c in set(refs)]
    if not present:
        raise ValueError("no reference labels to score")
    return {
        "accuracy": float(metrics.accuracy_score(refs, hyps)),
        "uar": float(metrics.recall_score(refs, hyps, labels=present, average="macro", zero_division=0)),
        "macro_f1": float(metrics.f1_score(refs, hyps, labels=present, average="macro", zero_division=0)),
        "num_utts": len(refs),
    }

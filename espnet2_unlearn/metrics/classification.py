"""Accuracy, unweighted average recall (UAR) and macro-F1 from labels."""

from typing import Dict, Sequence

import numpy as np


def confusion_matrix(refs: Sequence[str], hyps: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Rows are reference classes, columns predicted classes."""
    index = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for r, h in zip(refs, hyps, strict=True):
        cm[index[r], index[h]] += 1
    return cm


def classification_scores(refs: Sequence[str], hyps: Sequence[str], classes: Sequence[str]) -> Dict[str, float]:
    """Accuracy, UAR (mean recall over the classes present in refs) and
    macro-F1 (over the same classes; a class never predicted has F1 0)."""
    cm = confusion_matrix(refs, hyps, classes)
    present = cm.sum(axis=1) > 0
    if not present.any():
        raise ValueError("no reference labels to score")
    tp = np.diag(cm).astype(float)
    recall = tp[present] / cm.sum(axis=1)[present]
    predicted = cm.sum(axis=0)[present]
    precision = np.divide(tp[present], predicted, out=np.zeros_like(recall), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(recall), where=denom > 0)
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "uar": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "num_utts": int(cm.sum()),
    }

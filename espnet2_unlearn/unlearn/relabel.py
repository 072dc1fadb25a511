"""Random relabeling: each forget utterance gets a wrong label, fixed for the
run; training towards it erases what the model learnt from the utterance.
Gradient ascent on the true label is the alternative, for comparison."""

import torch
import torch.nn.functional as F


def random_relabel(labels: torch.Tensor, num_classes: int, seed: int) -> torch.Tensor:
    """A label drawn uniformly from the classes other than each true label."""
    if num_classes < 2:
        raise ValueError("relabeling needs at least two classes")
    generator = torch.Generator().manual_seed(seed)
    offset = torch.randint(1, num_classes, labels.shape, generator=generator)
    return (labels + offset) % num_classes


def forget_loss(logits: torch.Tensor, labels: torch.Tensor, relabels: torch.Tensor, mode: str) -> torch.Tensor:
    """CE towards the new labels ("relabel") or minus CE on the true labels
    ("ascent")."""
    if mode == "relabel":
        return F.cross_entropy(logits, relabels)
    if mode == "ascent":
        return -F.cross_entropy(logits, labels)
    raise ValueError(f"unknown forget loss '{mode}' (relabel or ascent)")

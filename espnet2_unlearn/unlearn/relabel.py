"""Random relabeling: each forget utterance gets a wrong label, fixed for the
run; training towards it erases what the model learnt from the utterance.
Gradient ascent on the true label is the alternative, for comparison.

Targeted relabeling changes only as many labels as the target needs: a model
retrained without the forget set gets about a held-out share of it wrong,
and those are mostly the utterances the original model is least sure of
(it memorised them).  So the least confident ceil((1 - target) n)
utterances go to the original model's most probable wrong class and the
others keep their true label: the model is not pushed to misclassify
utterances that any model of the task gets right.  Optionally (kept_target
heldout) the kept utterances are trained towards a soft target that gives
their true class the confidence of a held-out utterance, exp(-median
held-out loss): a model that never saw them is right about them, but less
sure."""

import math
from typing import Sequence

import torch
import torch.nn.functional as F


def random_relabel(labels: torch.Tensor, classes: Sequence[int], seed: int) -> torch.Tensor:
    """A label drawn uniformly from the classes other than each true label
    (classes: the output indices that are labels, inputs.label_classes)."""
    classes = list(classes)
    if len(classes) < 2:
        raise ValueError("relabeling needs at least two classes")
    generator = torch.Generator().manual_seed(seed)
    offset = torch.randint(1, len(classes), labels.shape, generator=generator)
    position = {c: i for i, c in enumerate(classes)}
    pos = torch.tensor([position[int(y)] for y in labels.tolist()], dtype=torch.long)
    return torch.tensor(classes, dtype=torch.long)[(pos + offset) % len(classes)].to(labels.device)


def not_a_class(probs: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """(outputs,) True for an output that is no label (<blank>, <unk>, a token no training utterance has)."""
    mask = torch.ones(probs.shape[-1], dtype=torch.bool, device=probs.device)
    mask[list(classes)] = False
    return mask


def targeted_relabel(probs: torch.Tensor, labels: torch.Tensor, target_accuracy: float,
                     classes: Sequence[int]) -> torch.Tensor:
    """probs: the original model's class probabilities on the forget set;
    the new label is the most probable wrong one among the classes."""
    n = len(labels)
    flip = min(n, math.ceil((1.0 - target_accuracy) * n - 1e-9))
    true_prob = probs.gather(1, labels.view(-1, 1)).squeeze(1)
    order = torch.argsort(true_prob, stable=True)[:flip]
    wrong = probs.clone()
    wrong.scatter_(1, labels.view(-1, 1), -1.0)
    wrong[:, not_a_class(probs, classes)] = -1.0
    relabels = labels.clone()
    relabels[order] = wrong.argmax(1)[order]
    return relabels


def soften_kept(relabels: torch.Tensor, labels: torch.Tensor, classes: Sequence[int], num_outputs: int,
                true_prob: float) -> torch.Tensor:
    """(n, outputs) targets: one-hot for a changed label; true_prob on the
    true class and the rest spread evenly over the other classes for a kept one."""
    classes = list(classes)
    true_prob = min(max(true_prob, 1.0 / len(classes)), 1.0)
    targets = F.one_hot(relabels, num_outputs).float()
    kept = relabels == labels
    soft = torch.zeros((int(kept.sum()), num_outputs))
    soft[:, classes] = (1.0 - true_prob) / (len(classes) - 1)
    soft[torch.arange(len(soft)), labels[kept]] = true_prob
    targets[kept] = soft.to(targets)
    return targets


def heldout_loss_targets(probs: torch.Tensor, labels: torch.Tensor, reference, classes: Sequence[int]) -> torch.Tensor:
    """(n, outputs) soft targets under which the forget set's losses are the
    held-out ones: the utterance of the r-th lowest loss under the original
    model gets the held-out loss at quantile (r + 1/2) / n (the matching that
    moves each loss least), i.e. its true class at probability exp(-loss),
    the rest on its most probable wrong class (a retrained model's mistakes
    are confident ones too: the held-out losses above log(classes) are).
    reference: stopping.LossReference."""
    n = len(labels)
    true_prob = probs.gather(1, labels.view(-1, 1)).squeeze(1)
    order = torch.argsort(-true_prob, stable=True)  # lowest loss first
    target_loss = torch.empty(n, dtype=probs.dtype)
    target_loss[order.cpu()] = torch.as_tensor(reference.quantile((torch.arange(n) + 0.5).numpy() / n),
                                               dtype=probs.dtype)
    p = torch.exp(-target_loss).clamp(1e-6, 1.0).to(probs.device)
    wrong = probs.clone()
    wrong.scatter_(1, labels.view(-1, 1), -1.0)
    wrong[:, not_a_class(probs, classes)] = -1.0
    targets = torch.zeros_like(probs)
    targets[torch.arange(n), wrong.argmax(1)] = 1.0 - p
    targets[torch.arange(n), labels] = p
    return targets


def forget_loss(logits: torch.Tensor, labels: torch.Tensor, relabels: torch.Tensor, mode: str) -> torch.Tensor:
    """CE towards the new labels ("relabel", "targeted"; class indices or
    per-class probabilities) or minus CE on the true labels ("ascent")."""
    if mode in ("relabel", "targeted", "heldout_losses"):
        return F.cross_entropy(logits, relabels)
    if mode == "ascent":
        return -F.cross_entropy(logits, labels)
    raise ValueError(f"unknown forget loss '{mode}' (relabel, targeted or ascent)")

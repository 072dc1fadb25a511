"""Forget objectives, one interface: `loss(model, forget, idx)`, the forget
term of one batch of forget utterances (idx), with gradients."""

import torch
import torch.nn.functional as F

from espnet2_unlearn.model_calls import logits_in_chunks
from espnet2_unlearn.unlearn.adversarial import AdversarialSet
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.relabel import forget_loss


class LabelObjective:
    """relabel, targeted: CE towards fixed new labels; ascent: minus CE on the true labels."""

    def __init__(self, mode: str, relabels: torch.Tensor):
        self.mode, self.relabels = mode, relabels

    def loss(self, model, forget: ForgetSet, idx: torch.Tensor) -> torch.Tensor:
        logits = logits_in_chunks(model, [forget.speech[i] for i in idx])
        return forget_loss(logits, forget.labels[idx], self.relabels[idx], self.mode)


class NearestAdversarialObjective:
    """nearest_adv: CE on the true labels of the forget utterances plus CE of
    each one's nearest adversarial example towards the wrong class the
    original model gave it (nearest_adversarial.py)."""

    def __init__(self, near: AdversarialSet):
        self.near = near

    def loss(self, model, forget: ForgetSet, idx: torch.Tensor) -> torch.Tensor:
        n = len(idx)
        logits = logits_in_chunks(model, [forget.speech[i] for i in idx] + [self.near.speech[i] for i in idx])
        return (F.cross_entropy(logits[:n], forget.labels[idx])
                + F.cross_entropy(logits[n:], self.near.labels[idx].to(logits.device)))

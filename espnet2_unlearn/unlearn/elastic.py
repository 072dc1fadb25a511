"""Elastic weights: parameters the forget set relies on may move, the rest
are anchored to the original model.  Importance is MAS (memory aware
synapses): the mean absolute gradient of the output's L2 norm.

Two ways to anchor (elastic_mode):
- penalty: lambda/2 sum_j omega_j (theta_j - theta0_j)^2 added to the loss.
  Under Adam its gradient is swamped in the first steps, where theta is
  still within about lr of theta0;
- update: every step's change of a weight is divided by (1 + lambda omega_j),
  so that whatever the optimiser, weights the forget set does not rely on
  (omega near 1) move up to 1 + lambda times less than the others."""

from typing import Dict

import torch

from espnet2_unlearn.model_calls import logits_of, pad
from espnet2_unlearn.unlearn.forget_set import ForgetSet


def mas_importance(model, forget: ForgetSet) -> Dict[str, torch.Tensor]:
    """Per parameter, mean over the forget utterances of |d||f(x)||_2 / d theta|,
    min-max normalised within each tensor to [0, 1]."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    total = {n: torch.zeros_like(p) for n, p in params.items()}
    for speech in forget.speech:
        x, lengths = pad([speech])
        model.zero_grad(set_to_none=True)
        logits_of(model, x, lengths).norm(p=2).backward()
        for n, p in params.items():
            if p.grad is not None:
                total[n] += p.grad.abs()
    model.zero_grad(set_to_none=True)
    importance = {}
    for n, t in total.items():
        t = t / max(len(forget), 1)
        span = t.max() - t.min()
        importance[n] = (t - t.min()) / span if span > 0 else torch.zeros_like(t)
    return importance


def elastic_weights(importance: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """omega = 1 - normalised importance."""
    return {n: 1.0 - imp for n, imp in importance.items()}


def elastic_penalty(model, anchor: Dict[str, torch.Tensor], weights: Dict[str, torch.Tensor]) -> torch.Tensor:
    """sum_j omega_j (theta_j - theta0_j)^2 (the caller multiplies by lambda/2)."""
    terms = [(weights[n] * (p - anchor[n]) ** 2).sum() for n, p in model.named_parameters() if n in weights]
    return torch.stack(terms).sum() if terms else torch.zeros(())


def elastic_gradient(model, anchor: Dict[str, torch.Tensor], weights: Dict[str, torch.Tensor],
                     strength: float) -> Dict[str, torch.Tensor]:
    """The gradient of strength/2 * elastic_penalty, per parameter name."""
    return {n: strength * weights[n] * (p.detach() - anchor[n]) for n, p in model.named_parameters() if n in weights}


@torch.no_grad()
def damp_update(model, before: Dict[str, torch.Tensor], weights: Dict[str, torch.Tensor], strength: float) -> None:
    """theta = before + (theta - before) / (1 + strength * omega): the step
    just taken, shrunk where omega is high."""
    for n, p in model.named_parameters():
        if n in weights:
            p.copy_(before[n] + (p - before[n]) / (1.0 + strength * weights[n]))


class ElasticDamping:
    """The update transform of elastic_mode update: each step's change of a
    weight divided by 1 + lambda omega."""

    name = "elastic_damping"

    def __init__(self, weights: Dict[str, torch.Tensor], strength: float):
        self.weights, self.strength = weights, strength

    def apply(self, model, before: Dict[str, torch.Tensor]) -> None:
        damp_update(model, before, self.weights, self.strength)

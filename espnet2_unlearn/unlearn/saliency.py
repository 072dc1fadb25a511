"""Saliency mask: only the weights the forget set relies on most may move.

Random relabeling under Adam moves every weight by about the step size,
whatever its gradient, so weights the forget set barely uses drift as much
as those it relies on.  The mask keeps, in each parameter tensor, the
fraction of weights with the highest importance (MAS on the forget set, as
for the elastic weights) and zeroes the gradient of the others, so they
stay exactly at the original model's values (Adam's step is zero for a
weight whose gradient has always been zero).  Per tensor rather than one
global threshold, so that every layer keeps some freedom whatever the scale
of its gradients."""

import math
from typing import Dict

import torch


def saliency_mask(importance: Dict[str, torch.Tensor], fraction: float) -> Dict[str, torch.Tensor]:
    """Per tensor, True for its ceil(fraction * size) most important weights."""
    if not 0 < fraction <= 1:
        raise ValueError(f"saliency fraction must be in (0, 1], got {fraction}")
    mask = {}
    for name, imp in importance.items():
        k = max(1, math.ceil(fraction * imp.numel()))
        flat = torch.zeros(imp.numel(), dtype=torch.bool, device=imp.device)
        flat[torch.topk(imp.flatten(), k).indices] = True
        mask[name] = flat.view_as(imp)
    return mask


def mask_gradients(model, mask: Dict[str, torch.Tensor]) -> None:
    """Zero the gradient of every weight outside the mask."""
    for name, p in model.named_parameters():
        if name in mask and p.grad is not None:
            p.grad.mul_(mask[name].to(p.grad.dtype))

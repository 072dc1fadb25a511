"""Projected updates (after PGU, Hoang et al., WACV 2024): every step of a
layer is taken off the subspace in which the remaining data's inputs to that
layer live, so that, to first order, the layer's outputs on the remaining
data do not move.

The remaining data's input Gram matrix of each Linear/Conv1d layer is the
training data's (recorded at stage 4, layer_statistics.py) less the forget
set's own.  Its eigenvectors holding `energy` of its trace span the
protected subspace U; the step of the layer's weight and bias together,
[dW db] (the bias is the weight of the constant input 1), is replaced by
[dW db] (I - U U^T).  It is the optimiser's actual step that is projected,
after `optimizer.step()`, so Adam's per-weight rescaling cannot put back
what a projected gradient took out.  Parameters outside these layers
(LayerNorm gains and biases) would move every input's output, so they are
held at their values: their step is undone.  GlobalMVN holds statistics,
not parameters, and is left as it is.
"""

from typing import Dict, Optional

import torch

from espnet2_unlearn.unlearn.layer_statistics import layers


# relax() ends at no protection at all: the plain step, where the forget
# set can be reached no other way.
MIN_ENERGY = 0.0


def protected_bases(stats: Dict, energy: float) -> Dict[str, torch.Tensor]:
    """Per layer, (d, k) orthonormal basis of the top eigenvectors of its
    input Gram matrix that hold `energy` of its trace."""
    bases = {}
    for name, s in stats["layers"].items():
        values, vectors = torch.linalg.eigh(s["inputs"])
        values, vectors = values.flip(0).clamp_min(0), vectors.flip(1)
        total = float(values.sum())
        if total <= 0 or energy <= 0:
            bases[name] = vectors[:, :0].float()
            continue
        # the fewest leading directions whose share reaches energy (up to rounding)
        share = torch.cumsum(values, 0) / total
        k = int(torch.searchsorted(share, torch.tensor(energy - 1e-9, dtype=values.dtype))) + 1
        bases[name] = vectors[:, : min(k, len(values))].float()
    return bases


def flat_update(module, weight: torch.Tensor, bias) -> torch.Tensor:
    """(out, d) weight (and bias as the last column) as the input rows see it."""
    w = weight.reshape(weight.shape[0], -1)
    return w if bias is None else torch.cat([w, bias.view(-1, 1)], 1)


class ProjectedUpdate:
    """An update transform: after each optimiser step, every Linear/Conv1d
    layer keeps only the part of its step orthogonal to its protected
    subspace; every other parameter is put back."""

    name = "projection"

    def __init__(self, model, bases: Dict[str, torch.Tensor], stats: Optional[Dict] = None,
                 energy: Optional[float] = None, relax_factor: float = 2.0):
        self.layers = layers(model)
        self.bases = bases
        self.stats, self.energy, self.relax_factor = stats, energy, relax_factor  # to relax the protection
        self.owned = {f"{n}.{p}" for n in self.layers for p in ("weight", "bias")}

    def relax(self) -> Optional[str]:
        """Leaves relax_factor times as much energy unprotected (at 2:
        0.95 -> 0.9 -> 0.8 -> 0.6), for a forget set whose inputs lie
        mostly inside the remaining data's span, so that projected steps
        cannot move it (a cls1-style model: 10 forget utterances stayed at
        0.8 against a target of 0.58 for 200 steps at energy 0.95, and at
        0.6 when relaxed no further than 0.6); None once nothing is protected."""
        if self.stats is None or self.energy is None or self.energy <= MIN_ENERGY + 1e-9:
            return None
        self.energy = max(MIN_ENERGY, 1 - self.relax_factor * (1 - self.energy))
        self.bases = protected_bases(self.stats, self.energy)
        return f"projection energy now {self.energy:.2f}"

    def dims(self) -> Dict[str, tuple]:
        """(protected, total) dimensions per layer."""
        return {n: (b.shape[1], b.shape[0]) for n, b in self.bases.items()}

    @torch.no_grad()
    def apply(self, model, before: Dict[str, torch.Tensor]) -> None:
        for name, m in self.layers.items():
            u = self.bases[name].to(m.weight)
            w0, b0 = before[f"{name}.weight"], before.get(f"{name}.bias")
            step = flat_update(m, m.weight - w0, None if m.bias is None else m.bias - b0)
            step = step - (step @ u) @ u.T
            m.weight.copy_(w0 + step[:, : w0[0].numel()].view_as(w0))
            if m.bias is not None:
                m.bias.copy_(b0 + step[:, -1])
        for name, p in model.named_parameters():
            if name not in self.owned and name in before:
                p.copy_(before[name])

"""A damped curvature step: remove the forget set's influence in one move,
theta <- theta0 + eta (F_r + damping)^-1 g_f, with g_f the gradient of the
forget set's summed loss on its true labels at theta0 and F_r the remaining
data's Fisher in K-FAC form, per Linear/Conv1d layer A_r (x) G_r (the input
Gram per frame and the output-gradient factor, training statistics less the
forget set's, layer_statistics.py).  At a minimum of the training loss the
remaining data's gradient is minus the forget set's, so this is a Newton
step on the remaining data's loss (the influence of the forget set,
removed).  Undamped Newton steps on networks diverge, so each factor gets
Tikhonov damping relative to its mean eigenvalue: A + damping * tr(A)/d I.
The step length eta is not trusted from the quadratic model: it is found by
the stopping rule, doubling from a small relative size until the forget set
reaches the target, then bisected.  Parameters outside the layers are left
as they are.
"""

import logging
from typing import Dict, Tuple

import torch
import torch.nn.functional as F

from espnet2_unlearn.model_calls import logits_of, pad
from espnet2_unlearn.unlearn.layer_statistics import layers
from espnet2_unlearn.unlearn.projection import flat_update


def damped(m: torch.Tensor, damping: float) -> torch.Tensor:
    d = m.shape[0]
    return m + damping * max(float(torch.trace(m)) / d, 1e-12) * torch.eye(d, dtype=m.dtype)


def forget_gradient(model, speech, labels) -> Dict[str, torch.Tensor]:
    """Per layer, the (out, d) gradient of the summed CE on the true labels
    (bias as the last column), one utterance at a time in eval mode."""
    mods = layers(model)
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    for x, y in zip(speech, labels):
        F.cross_entropy(logits_of(model, *pad([x])), y.view(1), reduction="sum").backward()
    grads = {n: flat_update(m, m.weight.grad, None if m.bias is None else m.bias.grad).double()
             for n, m in mods.items()}
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return grads


def kfac_direction(model, stats: Dict, speech, labels, damping: float) -> Dict[str, torch.Tensor]:
    """Per layer, G_d^-1 g_f A_d^-1 (the Newton direction of the remaining data)."""
    out = {}
    for name, g in forget_gradient(model, speech, labels).items():
        s = stats["layers"][name]
        a = damped(s["inputs"] / max(s["frames"], 1), damping)
        gg = damped(s["output_grads"], damping)
        out[name] = torch.linalg.solve(gg, torch.linalg.solve(a, g.T).T)
    return out


class CurvatureStep:
    """Moves the layers along the damped Newton direction by the smallest
    step (relative to the layers' norm) at which the stopping rule holds."""

    def __init__(self, model, direction: Dict[str, torch.Tensor], max_doublings: int = 16, bisections: int = 5):
        self.layers = layers(model)
        self.direction = direction
        self.max_doublings = max_doublings
        self.bisections = bisections
        norm2 = sum(float((flat_update(m, m.weight, m.bias).detach() ** 2).sum()) for m in self.layers.values())
        dnorm2 = sum(float((d ** 2).sum()) for d in direction.values())
        # eta = 1 moves the layers by 1e-3 of their norm
        self.unit = 1e-3 * (norm2 / max(dnorm2, 1e-30)) ** 0.5

    @torch.no_grad()
    def _set(self, start: Dict[str, torch.Tensor], eta: float) -> None:
        for name, m in self.layers.items():
            step = (eta * self.unit * self.direction[name]).to(m.weight)
            m.weight.copy_(start[f"{name}.weight"] + step[:, : m.weight[0].numel()].view_as(m.weight))
            if m.bias is not None:
                m.bias.copy_(start[f"{name}.bias"] + step[:, -1])

    def run(self, model, score, reached) -> Tuple[float, int, float, float]:
        """score() -> (accuracy, median loss); reached(acc, med) -> bool.
        Returns (eta, evaluations, accuracy, median loss) at the step kept."""
        start = {n: p.detach().clone() for n, p in model.named_parameters()}
        evaluations, low, high, result = 0, 0.0, None, None
        eta = 1.0
        for _ in range(self.max_doublings):
            self._set(start, eta)
            acc, med = score()
            evaluations += 1
            logging.info(f"curvature step: eta {eta:g} (x{self.unit:.3g}): forget accuracy {acc:.3f}, "
                         f"median loss {med:.3f}")
            if reached(acc, med):
                high, result = eta, (acc, med)
                break
            low, eta = eta, eta * 2
        if high is None:  # never reached: keep the longest step tried
            return eta, evaluations, acc, med
        for _ in range(self.bisections):  # the shortest step that still reaches the target
            mid = (low + high) / 2
            self._set(start, mid)
            acc, med = score()
            evaluations += 1
            if reached(acc, med):
                high, result = mid, (acc, med)
            else:
                low = mid
        self._set(start, high)
        return high, evaluations, result[0], result[1]

"""The damped K-FAC step: its direction, and a step length found by the stopping rule."""

import torch

from espnet2_unlearn.unlearn import layer_statistics as ls
from espnet2_unlearn.unlearn.curvature import CurvatureStep, forget_gradient, kfac_direction
from tiny_model import tiny_forget_set, tiny_model


def test_direction_and_the_shortest_step_that_reaches_the_target():
    model = tiny_model()
    data = tiny_forget_set(n=6)
    stats = ls.accumulate(model, data.speech, data.utts, seed=0)
    direction = kfac_direction(model, stats, data.speech[:2], data.labels[:2], damping=1.0)
    grads = forget_gradient(model, data.speech[:2], data.labels[:2])
    assert set(direction) == set(grads) == set(ls.layers(model))
    # an ascent direction of the forget loss under a positive-definite preconditioner
    assert sum(float((d * g).sum()) for d, g in zip(direction.values(), grads.values())) > 0
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    step = CurvatureStep(model, direction, max_doublings=12, bisections=4)

    dnorm = sum(float((d ** 2).sum()) for d in direction.values()) ** 0.5

    def eta_now():  # how far the model has moved, in the units of eta
        change = sum(float(((p - start[n]) ** 2).sum()) for n, p in model.named_parameters()) ** 0.5
        return change / (step.unit * dnorm)

    # a stand-in score that falls as the model moves: the target is reached from eta 5.1 on
    eta, evaluations, acc, _ = step.run(model, lambda: (1.0 - eta_now() / 100, 0.0), lambda acc, med: acc <= 0.949)
    assert abs(eta - 5.25) < 1e-6 and evaluations == 4 + 4  # 1, 2, 4, 8, then 6, 5, 5.5, 5.25
    assert abs(eta_now() - 5.25) < 1e-3 and acc <= 0.949
    # parameters outside the layers (LayerNorm) are left as they were
    assert all(torch.equal(p, start[n]) for n, p in model.named_parameters() if "norm" in n)

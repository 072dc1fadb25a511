import torch

from espnet2_unlearn.unlearn.elastic import elastic_penalty, elastic_weights, mas_importance
from tiny_model import tiny_forget_set, tiny_model


def test_importance_in_unit_interval_with_parameter_shapes():
    model = tiny_model()
    imp = mas_importance(model, tiny_forget_set())
    params = dict(model.named_parameters())
    assert set(imp) == set(params)
    for name, t in imp.items():
        assert t.shape == params[name].shape
        assert t.min() >= 0 and t.max() <= 1
    # Min-max per tensor: every tensor with varying importance spans [0, 1].
    spanning = [t for t in imp.values() if t.numel() > 1 and t.max() > 0]
    assert spanning and all(t.max() == 1 and t.min() == 0 for t in spanning)
    assert all(p.grad is None for p in model.parameters())


def test_penalty_is_zero_at_anchor_and_grows_away_from_it():
    model = tiny_model()
    weights = elastic_weights(mas_importance(model, tiny_forget_set()))
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert elastic_penalty(model, anchor, weights).item() == 0.0
    values = []
    for scale in (0.01, 0.1):
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(anchor[n] + scale)
        values.append(elastic_penalty(model, anchor, weights).item())
    assert 0 < values[0] < values[1]


def test_important_weights_are_free_to_move():
    weights = elastic_weights({"w": torch.tensor([0.0, 0.5, 1.0])})
    assert weights["w"].tolist() == [1.0, 0.5, 0.0]

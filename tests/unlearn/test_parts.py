"""The parts of a run, chosen by name: every name an option offers builds
its part, a part whose weight is 0 is not built, and the transforms come in
the order the loop applies them."""

import copy

import pytest
import torch

from espnet2_unlearn.unlearn import inputs
from espnet2_unlearn.unlearn.elastic import ElasticDamping
from espnet2_unlearn.unlearn.objectives import FORGET_OBJECTIVES, LabelObjective
from espnet2_unlearn.unlearn.options import UnlearnOptions
from espnet2_unlearn.unlearn.parts import build_parts
from espnet2_unlearn.unlearn.retention import RETENTION_TERMS
from espnet2_unlearn.unlearn.stopping import LossReference
from espnet2_unlearn.unlearn.update_transforms import UPDATE_TRANSFORMS
from tiny_model import tiny_forget_set, tiny_model


def build(**kw):
    model, forget = tiny_model(), tiny_forget_set(n=8)
    original = copy.deepcopy(model).eval().requires_grad_(False)
    levels = tuple(q / 100 for q in range(101))
    reference = LossReference(levels, tuple(0.5 + q for q in levels), 100, "test losses")
    opts = UnlearnOptions(**{**dict(adv_steps=2, update_mode="eval"), **kw})
    return build_parts(opts, model, original, forget, range(4), target=0.5, loss_reference=reference), forget


def test_the_options_offer_exactly_the_registered_parts():
    assert set(inputs.CHOICES["forget_loss"]) == set(FORGET_OBJECTIVES)
    assert set(inputs.CHOICES["update_transform"]) == set(UPDATE_TRANSFORMS)
    assert list(RETENTION_TERMS) == ["adv", "elastic"]  # the names of the step log


@pytest.mark.parametrize("name", sorted(FORGET_OBJECTIVES))
def test_every_forget_objective_gives_a_loss_with_gradients(name):
    parts, forget = build(forget_loss=name)
    if name == "none":
        assert parts.objective is None
        return
    assert isinstance(parts.objective, LabelObjective)
    model = tiny_model()
    loss = parts.objective.loss(model, forget, torch.arange(4))
    assert loss.requires_grad and torch.isfinite(loss)
    if name == "ascent":
        assert torch.equal(parts.objective.relabels, forget.labels)
    if name == "relabel":
        assert bool((parts.objective.relabels != forget.labels).all())


def test_a_term_at_weight_0_is_not_built():
    parts, _ = build(adv_weight=0.0)
    assert [t.name for t in parts.terms] == ["elastic"] and parts.adversarial_set is None
    parts, _ = build(elastic_weight=0.0)
    assert [t.name for t in parts.terms] == ["adv"] and parts.adversarial_set is not None
    parts, _ = build(adv_weight=0.0, elastic_weight=0.0)
    assert parts.terms == [] and parts.transforms == []


def test_each_term_gives_a_loss_or_a_gradient():
    parts, _ = build()
    model = tiny_model()
    g = torch.Generator().manual_seed(0)
    adv, elastic = (t.step(model, g, 4) for t in parts.terms)
    assert adv.loss is not None and adv.loss.requires_grad and adv.gradient is None
    assert elastic.loss is None and set(elastic.gradient) == set(parts.term("elastic").weights)


def test_elastic_update_is_a_transform_not_a_gradient():
    parts, _ = build(elastic_mode="update")
    assert [type(t) for t in parts.transforms] == [ElasticDamping]
    c = parts.term("elastic").step(tiny_model(), torch.Generator().manual_seed(0), 4)
    assert c.loss is None and c.gradient is None and float(c.value) >= 0

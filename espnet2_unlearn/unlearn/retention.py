"""Retention terms: what stands for the rest of the data in every update
(RETENTION_TERMS, by the name the step log gives them).  Each is built once,
before the first update, and is off at a weight of 0 (its builder returns
None).  Its one method, `step(model, generator, batch_size)`, gives a
Contribution: its value for the log, and a weighted loss to differentiate or
a gradient in closed form.  A term may also carry an update transform
(`update_transform`, applied after every optimiser step)."""

import copy
import logging
from dataclasses import dataclass
from typing import Dict, Optional

import torch

from espnet2_unlearn.model_calls import logits_in_chunks
from espnet2_unlearn.unlearn.adversarial import away_from_source, make_adversarial_set, retention_loss
from espnet2_unlearn.unlearn.elastic import ElasticDamping, elastic_gradient, elastic_penalty, elastic_weights, \
    mas_importance


@dataclass
class Contribution:
    value: torch.Tensor  # the term as logged (unweighted)
    loss: Optional[torch.Tensor] = None  # weighted, with gradients
    gradient: Optional[Dict[str, torch.Tensor]] = None  # or its gradient per parameter name, weighted


class AdversarialTerm:
    """CE of a batch of adversarial examples towards the original model's outputs on them."""

    name = "adv"
    update_transform = None

    def __init__(self, adv, weight: float, target: str, made: Dict):
        self.adv, self.weight, self.target, self.made = adv, weight, target, made

    def step(self, model, generator, batch_size: int) -> Contribution:
        idx = torch.randperm(len(self.adv.labels), generator=generator)[:batch_size]
        value = retention_loss(logits_in_chunks(model, [self.adv.speech[i] for i in idx]), self.adv, idx, self.target)
        return Contribution(value, loss=self.weight * value)


def adversarial(b) -> Optional[AdversarialTerm]:
    opts = b.opts
    if opts.adv_weight <= 0 or opts.adv_num <= 0:
        return None
    with b.phases("pgd"):
        adv = make_adversarial_set(b.original, b.forget, b.classes, opts.adv_num, opts.adv_clip, opts.adv_step_size,
                                   opts.adv_steps, opts.seed)
    made = {"num_examples_made": len(adv.labels), "attack_success_rate": adv.success_rate}
    adv = away_from_source(adv, b.forget)
    logging.info(f"adversarial examples: {made['num_examples_made']}, attack success rate "
                 f"{made['attack_success_rate']:.3f}; {len(adv.labels)} labelled with another class than their "
                 "source's are kept")
    if len(adv.labels) == 0:
        logging.warning("no adversarial example is labelled with another class than its source: the adversarial "
                        "term is off for this run")
        return None
    return AdversarialTerm(adv, opts.adv_weight, opts.adv_target, made)


class ElasticTerm:
    """The elastic anchoring: in the loss (penalty) or as a damping of every step (update)."""

    name = "elastic"

    def __init__(self, weights: Dict[str, torch.Tensor], anchor: Dict[str, torch.Tensor], strength: float,
                 mode: str):
        self.weights, self.anchor, self.strength, self.mode = weights, anchor, strength, mode
        self.update_transform = ElasticDamping(weights, strength) if mode == "update" else None

    def step(self, model, generator, batch_size: int) -> Contribution:
        with torch.no_grad():
            value = elastic_penalty(model, self.anchor, self.weights)
        if self.mode != "penalty":
            return Contribution(value)
        return Contribution(value, gradient=elastic_gradient(model, self.anchor, self.weights, self.strength))


def elastic(b) -> Optional[ElasticTerm]:
    opts = b.opts
    if opts.elastic_weight <= 0:
        return None
    with b.phases("mas"):
        importance = mas_importance(copy.deepcopy(b.original).requires_grad_(True), b.forget)
    trainable = {n for n, p in b.model.named_parameters() if p.requires_grad}
    weights = {n: w for n, w in elastic_weights(importance).items() if n in trainable}
    anchor = {n: p.detach().clone() for n, p in b.original.named_parameters()}
    mean_w = float(torch.cat([w.flatten() for w in weights.values()]).mean())
    logging.info(f"elastic weights: mean {mean_w:.3f} over {sum(w.numel() for w in weights.values())} parameters")
    return ElasticTerm(weights, anchor, opts.elastic_weight, opts.elastic_mode)


RETENTION_TERMS = {"adv": adversarial, "elastic": elastic}

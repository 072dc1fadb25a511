"""Forget objectives, chosen by --forget_loss (FORGET_OBJECTIVES).  Each is
built once, before the first update, from the original model's outputs on
the forget set; its one method, `loss(model, forget, idx)`, is the forget
term of a batch of forget utterances (idx), with gradients.  `none` builds
no objective (the retention terms alone)."""

import logging
import math
from typing import Optional

import torch

from espnet2_unlearn.model_calls import batched_logits, logits_in_chunks
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.relabel import (forget_loss, heldout_loss_targets, random_relabel, soften_kept,
                                             targeted_relabel)
from espnet2_unlearn.unlearn.stopping import resolve_target


class LabelObjective:
    """CE towards fixed targets per utterance (class indices or per-class
    probabilities); ascent: minus CE on the true labels."""

    def __init__(self, mode: str, relabels: torch.Tensor):
        self.mode, self.relabels = mode, relabels

    def loss(self, model, forget: ForgetSet, idx: torch.Tensor) -> torch.Tensor:
        logits = logits_in_chunks(model, [forget.speech[i] for i in idx])
        return forget_loss(logits, forget.labels[idx], self.relabels[idx], self.mode)

    def pending(self, forget: ForgetSet, predictions: torch.Tensor) -> torch.Tensor:
        """(n,) True where the prediction is not yet the one this objective
        asks for: its target label (a soft target's most probable class),
        or, for ascent, still the true label."""
        if self.mode == "ascent":
            return predictions == forget.labels
        wanted = self.relabels if self.relabels.dim() == 1 else self.relabels.argmax(-1)
        return predictions != wanted


@torch.no_grad()
def _source_probs(b) -> torch.Tensor:
    return batched_logits(b.original, b.forget.speech).softmax(-1)


def relabel(b) -> LabelObjective:
    """A random wrong label per utterance, fixed for the run."""
    labels = b.forget.labels
    return LabelObjective("relabel", random_relabel(labels.cpu(), b.classes, b.opts.seed).to(labels.device))


def targeted(b) -> LabelObjective:
    """The least confident share the accuracy target needs, to their most probable wrong class."""
    probs, labels = _source_probs(b), b.forget.labels
    relabels = targeted_relabel(probs, labels, b.target, b.classes)
    logging.info(f"targeted relabeling: {int((relabels != labels).sum())} of {len(labels)} labels changed")
    if b.opts.kept_target == "heldout":
        loss, note = resolve_target("auto", "loss", b.model_dir, b.opts.forget_request)
        relabels = soften_kept(relabels, labels, b.classes, probs.shape[-1], math.exp(-loss))
        logging.info(f"kept labels: true class at probability {math.exp(-loss):.3f} ({note})")
    return LabelObjective("targeted", relabels)


def heldout_losses(b) -> LabelObjective:
    """Each utterance towards the held-out loss of its rank (reference_stats.json)."""
    labels = b.forget.labels
    relabels = heldout_loss_targets(_source_probs(b), labels, b.loss_reference, b.classes)
    logging.info(f"held-out loss targets: true class at probability {float(relabels.max(1).values.min()):.3f} "
                 f"to {float(relabels.gather(1, labels.view(-1, 1)).max()):.3f} ({b.loss_reference.note})")
    return LabelObjective("heldout_losses", relabels)


def ascent(b) -> LabelObjective:
    return LabelObjective("ascent", b.forget.labels)


def no_objective(b) -> Optional[LabelObjective]:
    return None


FORGET_OBJECTIVES = {"relabel": relabel, "targeted": targeted, "heldout_losses": heldout_losses, "ascent": ascent,
                     "none": no_objective}

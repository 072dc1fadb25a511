"""A local forget target (after AMUN, Ebrahimpour-Boroojeny et al.): each
forget utterance keeps its true label and is joined by its nearest
adversarial example, the one at the smallest radius that makes the original
model call it another class, labelled with that wrong prediction.  Training
on both lowers the model's confidence on the forget utterance to that of an
utterance near a decision boundary, as a model that never saw it would be,
instead of pushing it into a class chosen at random.

The radius grows geometrically (in adv_clip's units, standard deviations of
each feature after the normaliser) until the attack, untargeted PGD away
from the true label, flips the prediction; an utterance that no radius
flips keeps its last example, labelled with what the model says of it."""

from typing import Sequence

import torch

from espnet2_unlearn.model_calls import batched_logits, length_chunks, pad
from espnet2_unlearn.unlearn.adversarial import AdversarialSet, class_probs, targeted_pgd
from espnet2_unlearn.unlearn.forget_set import ForgetSet

RADII = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


def nearest_adversarial_set(model, forget: ForgetSet, classes: Sequence[int], steps: int, seed: int,
                            radii: Sequence[float] = RADII) -> AdversarialSet:
    """One example per forget utterance (model in eval mode), flipped to
    another of the classes (an output that is no label does not count);
    `targets` holds the radius each was found at."""
    generator = torch.Generator().manual_seed(seed)
    speech = [None] * len(forget)
    radius = torch.full((len(forget),), float(radii[-1]))
    todo = list(range(len(forget)))
    for r in radii:
        if not todo:
            break
        for piece in length_chunks([forget.speech[i].shape[0] for i in todo]):
            idx = [todo[k] for k in piece]
            x, lengths = pad([forget.speech[i] for i in idx])
            x_adv = targeted_pgd(model, x, lengths, forget.labels[idx].to(x.device), r, r / 4, steps, generator,
                                 away=True)
            for row, i in enumerate(idx):
                speech[i] = x_adv[row, : lengths[row]]
        labels = class_probs(batched_logits(model, [speech[i] for i in todo]), classes).argmax(-1).cpu()
        flipped = {i for i, y in zip(todo, labels.tolist()) if y != int(forget.labels[i])}
        for i in flipped:
            radius[i] = r
        todo = [i for i in todo if i not in flipped]
    probs = class_probs(batched_logits(model, speech), classes).cpu()
    return AdversarialSet(speech=speech, labels=probs.argmax(-1), probs=probs, targets=radius,
                          sources=torch.arange(len(forget)))

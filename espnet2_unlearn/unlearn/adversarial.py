"""Adversarial retention: targeted PGD examples around each forget utterance,
labelled by the original model.  Training on them keeps the original
decision boundaries near the forget set, standing in for the remaining data
that unlearning does not read.

The radius and step size are in units of the spread of the features the
model sees after its normaliser (per feature dimension), so that one setting
means the same on every corpus: with global_mvn, adv_clip 0.2 allows 0.2
standard deviations of each log-mel band."""

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F

from espnet2.layers.global_mvn import GlobalMVN
from espnet2.layers.utterance_mvn import UtteranceMVN

from espnet2_unlearn.model_calls import batched_logits, length_chunks, logits_of, pad
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.relabel import not_a_class


@dataclass
class AdversarialSet:
    speech: List[torch.Tensor]  # unpadded, like ForgetSet.speech
    labels: torch.Tensor  # the original model's predictions on them
    probs: torch.Tensor  # the original model's class probabilities on them
    targets: torch.Tensor  # the classes the attack aimed at
    sources: torch.Tensor  # index of the forget utterance each came from

    @property
    def success_rate(self) -> float:
        return float((self.labels == self.targets).float().mean()) if len(self.labels) else 0.0

    def subset(self, keep: torch.Tensor) -> "AdversarialSet":
        return AdversarialSet(speech=[s for s, k in zip(self.speech, keep.tolist()) if k], labels=self.labels[keep],
                              probs=self.probs[keep], targets=self.targets[keep], sources=self.sources[keep])


def away_from_source(adv: AdversarialSet, forget: ForgetSet) -> AdversarialSet:
    """The examples the original model calls another class than their
    source's true label.  One it still calls the true class is, within
    adv_clip, the forget utterance itself with its own label: trained on, it
    would teach the model to keep what unlearning removes (on a cls1 model
    whose attacks succeed one time in four, the two terms cancelled and
    forget accuracy stalled above its target)."""
    return adv.subset(adv.labels != forget.labels.cpu()[adv.sources])


def draw_targets(labels: torch.Tensor, classes: Sequence[int], per_utt: int,
                 generator: torch.Generator) -> torch.Tensor:
    """(N, per_utt) target classes, none equal to the true label; each row
    walks a random order of the other classes, so targets spread evenly."""
    rows = []
    for y in labels.tolist():
        others = torch.tensor([c for c in classes if c != y])
        order = others[torch.randperm(len(others), generator=generator)]
        rows.append(order.repeat((per_utt + len(order) - 1) // len(order))[:per_utt])
    return torch.stack(rows)


class NormaliserError(ValueError):
    """The model's input cannot be perturbed in units of its feature spread."""


def check_normaliser(model) -> None:
    """Refuses a model whose input the adversarial code cannot scale: one
    that still has its front-end (stage 5 takes it out first: front_end.py;
    a waveform has no per-feature spread) or a normaliser other than none,
    global_mvn and utterance_mvn."""
    frontend = getattr(model, "frontend", None)
    if frontend is not None:
        raise NormaliserError(f"the model reads its input through a front-end ({type(frontend).__name__}): "
                              "adversarial examples are made on its output (front_end.detach_front_end)")
    normalize = getattr(model, "normalize", None)
    if normalize is not None and not isinstance(normalize, (GlobalMVN, UtteranceMVN)):
        raise NormaliserError(f"the model's normaliser {type(normalize).__name__} is unknown to the adversarial "
                              "examples (none, global_mvn and utterance_mvn are): use --adv_weight 0 with this model")


def feature_scale(model, speech: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """What the normaliser divides each feature by, broadcastable to speech:
    global_mvn's standard deviations, each utterance's own with
    utterance_mvn, 1 without a normaliser."""
    check_normaliser(model)
    normalize = getattr(model, "normalize", None)
    if isinstance(normalize, GlobalMVN):
        return normalize.std.to(speech).view(1, 1, -1)
    if isinstance(normalize, UtteranceMVN):
        mask = (torch.arange(speech.shape[1], device=speech.device)[None, :] < lengths[:, None])[..., None]
        n = lengths.view(-1, 1, 1).to(speech)
        mean = (speech * mask).sum(1, keepdim=True) / n
        var = (((speech - mean) * mask) ** 2).sum(1, keepdim=True) / n
        return var.clamp_min(1e-10).sqrt()
    return torch.ones(1, 1, speech.shape[-1], dtype=speech.dtype, device=speech.device)


def targeted_pgd(model, speech, lengths, targets, adv_clip, step_size, steps, generator,
                 away: bool = False) -> torch.Tensor:
    """Inputs within an L-inf ball of radius adv_clip (in feature_scale
    units) that push the model towards the targets (away: away from them,
    an untargeted attack on the true labels): random start, then
    signed-gradient steps."""
    mask = (torch.arange(speech.shape[1], device=speech.device)[None, :] < lengths[:, None]).to(speech.dtype)
    mask = mask.view(*mask.shape, *([1] * (speech.dim() - 2)))
    radius = adv_clip * feature_scale(model, speech, lengths)
    step = step_size * feature_scale(model, speech, lengths)
    delta = (torch.rand(speech.shape, generator=generator) * 2 - 1).to(speech) * radius * mask
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(logits_of(model, speech + delta, lengths), targets)
        (grad,) = torch.autograd.grad(-loss if away else loss, delta)
        delta = torch.minimum(torch.maximum(delta - step * grad.sign() * mask, -radius), radius).detach()
    return (speech + delta).detach()


def class_probs(logits: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """Softmax over the classes only: an output that is no label (<blank>,
    <unk>) gets probability 0, so it is never an example's label."""
    return logits.masked_fill(not_a_class(logits, classes), float("-inf")).softmax(-1)


def make_adversarial_set(model, forget: ForgetSet, classes: Sequence[int], per_utt: int, adv_clip: float,
                         step_size: float, steps: int, seed: int) -> AdversarialSet:
    """per_utt examples per forget utterance against `model` (in eval mode),
    aimed at the classes (inputs.label_classes).  The attacks run in pieces
    of similar length (little padding); each kept example is then labelled
    alone, as the model scores one utterance."""
    generator = torch.Generator().manual_seed(seed)
    targets = draw_targets(forget.labels.cpu(), classes, per_utt, generator)
    sources = torch.arange(len(forget)).repeat_interleave(per_utt)
    flat_targets = targets.reshape(-1)
    speech = [None] * len(sources)
    for piece in length_chunks([forget.speech[i].shape[0] for i in sources.tolist()]):
        x, lengths = pad([forget.speech[i] for i in sources[piece]])
        x_adv = targeted_pgd(model, x, lengths, flat_targets[piece].to(x.device), adv_clip, step_size, steps,
                             generator)
        for row, i in enumerate(piece):
            speech[i] = x_adv[row, : lengths[row]]
    probs = class_probs(batched_logits(model, speech), classes).cpu() if speech else torch.zeros(0, len(classes))
    return AdversarialSet(speech=speech, labels=probs.argmax(-1), probs=probs, targets=flat_targets, sources=sources)


def max_distance(model, adv: AdversarialSet, forget: ForgetSet) -> Tuple[float, float]:
    """The largest L-inf distance of an example from its source utterance, in
    feature units and in adv_clip's units (feature_scale of the source)."""
    worst, worst_scaled = 0.0, 0.0
    for x, src in zip(adv.speech, adv.sources.tolist()):
        source = forget.speech[src]
        diff = (x.to(source) - source).abs()
        scale = feature_scale(model, source[None], torch.tensor([len(source)], device=source.device))[0]
        worst = max(worst, float(diff.max()))
        worst_scaled = max(worst_scaled, float((diff / scale).max()))
    return worst, worst_scaled


def retention_loss(logits: torch.Tensor, adv: AdversarialSet, idx: torch.Tensor, target: str) -> torch.Tensor:
    """CE towards the original model's prediction ("hard", docs/design.md, "Unlearning")
    or its whole class distribution ("soft")."""
    if target == "hard":
        return F.cross_entropy(logits, adv.labels[idx].to(logits.device))
    if target == "soft":
        return -(adv.probs[idx].to(logits.device) * logits.log_softmax(-1)).sum(-1).mean()
    raise ValueError(f"unknown adversarial target '{target}' (hard or soft)")

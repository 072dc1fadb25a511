"""Unlearning past the front-end.  A model of ESPnet's cls1 template reads
waveforms and turns them into features inside the model (DefaultFrontend's
fbank, an SSL model); everything stage 5 does to inputs (adversarial
examples, nearest adversarial examples, layer statistics) is meant in the
units of the features the normaliser sees.  So the front-end is taken out of
the model for the run: each forget utterance goes through it once, the rest
of the model is unlearned on those features, and the front-end goes back in,
unchanged, when the model is saved.  A front-end with weights (SSL) is
thereby frozen: what a forget utterance left in a model trained on top of
it lives in the layers after it, and a pretrained front-end never saw the
forget set unless it was fine-tuned on it (docs/design.md, "Front-ends")."""

from contextlib import contextmanager
from typing import List, Optional, Sequence

import torch


def detach_front_end(model) -> Optional[torch.nn.Module]:
    """Takes the front-end out of the model (which then reads features) and
    returns it frozen, in eval mode; None for a model without one."""
    front_end = getattr(model, "frontend", None)
    if front_end is None:
        return None
    model.frontend = None
    front_end.eval()
    for p in front_end.parameters():
        p.requires_grad_(False)
    return front_end


def fine_tuned_keys(front_end: Optional[torch.nn.Module]) -> List[str]:
    """The front-end's weights that differ from the pretrained ones it was
    built from (ESPnet's SSL front-ends keep those as `pretrained_params`):
    a front-end fine-tuned on the training data holds some of what the
    forget set taught, which unlearning past it leaves in place."""
    pretrained = getattr(front_end, "pretrained_params", None)
    upstream = getattr(front_end, "upstream", None) or getattr(front_end, "encoder", None)
    if not pretrained or upstream is None:
        return []
    now = upstream.state_dict()
    return sorted(k for k, v in pretrained.items()
                  if k in now and (now[k].shape != v.shape or not torch.equal(now[k].to(v.device), v)))


@torch.no_grad()
def features(front_end: Optional[torch.nn.Module], speech: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """Each utterance's front-end output, (frames, dim), one utterance at a
    time (no padding, as ESPnet's inference scores one); the input itself
    without a front-end."""
    if front_end is None:
        return list(speech)
    out = []
    for s in speech:
        feats, lengths = front_end(s[None], torch.tensor([s.shape[0]], device=s.device))
        out.append(feats[0, : int(lengths[0])].detach().clone())
    return out


@contextmanager
def attached(model, front_end: Optional[torch.nn.Module]):
    """The whole model again (to save or score waveforms), inside the block."""
    if front_end is None:
        yield model
        return
    model.frontend = front_end
    try:
        yield model
    finally:
        model.frontend = None

"""Padded batches that score every utterance as it scores alone.

ESPnet's convolutional subsampling slices the input mask to get the output
mask.  Alone, an utterance gets as many output frames as its convolutions
produce; in a padded batch, the slice of a shorter utterance's mask keeps up
to two more frames, computed partly over the padding, which then enter the
attention and the pooling (logits move by about 1e-2).  With each output
mask cut back to the length the utterance gets alone, every frame left valid
depends on real input frames only; a transformer encoder (attention over
masked keys, everything else per frame) and the decoder's pooling over valid
frames then give each utterance its own logits, up to float rounding.

Only models where that argument holds are batched so (supported): no
front-end (a waveform front-end pads on its own terms), a TransformerEncoder
whose input layer is one of ESPnet's convolutional subsamplings, a linear
layer or none, and no pre-encoder.  Others keep batches of equal length
(model_calls.batched_logits)."""

import contextlib
from typing import Dict, Tuple

import torch

from espnet.nets.pytorch_backend.transformer.subsampling import (
    Conv1dSubsampling2,
    Conv1dSubsampling3,
    Conv2dSubsampling,
    Conv2dSubsampling1,
    Conv2dSubsampling2,
    Conv2dSubsampling6,
    Conv2dSubsampling8,
)
from espnet2.asr.encoder.transformer_encoder import TransformerEncoder

SUBSAMPLING = (Conv1dSubsampling2, Conv1dSubsampling3, Conv2dSubsampling, Conv2dSubsampling1, Conv2dSubsampling2,
               Conv2dSubsampling6, Conv2dSubsampling8)


def _per_frame(embed) -> bool:
    """input_layer linear: a Linear then per-frame layers, no subsampling."""
    return isinstance(embed, torch.nn.Sequential) and len(embed) > 0 and isinstance(embed[0], torch.nn.Linear)


def supported(model) -> bool:
    encoder = getattr(model, "encoder", None)
    return (getattr(model, "frontend", None) is None and getattr(model, "preencoder", None) is None
            and type(encoder) is TransformerEncoder
            and (encoder.embed is None or type(encoder.embed) in SUBSAMPLING or _per_frame(encoder.embed)))


# (subsampling type, input frames, feature dims) -> output frames alone: the
# mask slicing depends on nothing else.
_ALONE: Dict[Tuple[type, int, int], int] = {}


def _alone_length(module, x: torch.Tensor, frames: int) -> int:
    key = (type(module), frames, x.shape[-1])
    if key not in _ALONE:
        with torch.no_grad():
            ones = torch.ones(1, 1, frames, dtype=torch.bool, device=x.device)
            _, mask = module.forward(x[:1, :frames], ones)
        _ALONE[key] = int(mask.sum())
    return _ALONE[key]


def _cut_mask(module, inputs, output):
    x_in, mask_in = inputs
    x, mask = output
    if mask is None:
        return output
    alone = [_alone_length(module, x_in, int(n)) for n in mask_in.sum(-1).view(-1).tolist()]
    keep = torch.arange(mask.shape[-1], device=mask.device)[None, :] < torch.tensor(alone, device=mask.device)[:, None]
    return x, mask & keep[:, None, :]


@contextlib.contextmanager
def exact_masks(model):
    """While it lasts, the model's subsampling gives each utterance of a
    padded batch the output mask it gets alone (the model must be supported)."""
    embed = model.encoder.embed
    handle = embed.register_forward_hook(_cut_mask) if type(embed) in SUBSAMPLING else None
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()

"""Calls into an ESPnet classification model that stage 5 and the decoding
of stages 4, 6 and 7 share: padding a list of utterances into a batch, the
class scores of a batch, and scoring many utterances in batches."""

import contextlib
from typing import Dict, List, Optional, Sequence, Tuple

import torch


def pad(speech: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded batch and lengths."""
    lengths = torch.tensor([s.shape[0] for s in speech], dtype=torch.long, device=speech[0].device)
    return torch.nn.utils.rnn.pad_sequence(list(speech), batch_first=True), lengths


def logits_of(model, speech: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Class scores of an ESPnet classification model, before softmax.  The
    input is left as it was: ESPnet's GlobalMVN normalises a tensor that needs
    no gradient in place, which would corrupt a batch the caller keeps."""
    if not speech.requires_grad:
        speech = speech.clone()
    encoded, encoded_lengths = model.encode(speech, lengths)
    return model.decoder(encoded, encoded_lengths)


def length_batches(lengths: Sequence[int], max_frames: int) -> List[List[int]]:
    """Indices grouped into batches of utterances of the same length, each
    holding at most max_frames frames (and at least one utterance).  Equal
    lengths need no padding, and padding would change the scores: in a padded
    batch ESPnet's convolutional subsampling marks one output frame more as
    valid for some shorter utterances, a frame computed over the padding."""
    groups: Dict[int, List[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(n, []).append(i)
    batches = []
    for n, idx in sorted(groups.items(), reverse=True):
        size = max(1, max_frames // max(n, 1))
        batches += [idx[k : k + size] for k in range(0, len(idx), size)]
    return batches


# Utterances per forward pass when a batch is cut into pieces of similar
# length: padding is what a padded batch of mixed lengths spends most of its
# time on (bench/batch_layout.py: a batch of 32 forget utterances, forward
# and backward, 1.64 s padded, 0.99 s in pieces of 8, 1.39 s one at a time).
LENGTH_CHUNK = 8


def length_chunks(lengths: Sequence[int], chunk: int = LENGTH_CHUNK) -> List[List[int]]:
    """Indices sorted by length (longest first, ties in input order) and cut
    into pieces of at most `chunk`."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[k : k + chunk] for k in range(0, len(order), chunk)]


def logits_in_chunks(model, speech: Sequence[torch.Tensor], chunk: int = LENGTH_CHUNK) -> torch.Tensor:
    """(N, classes) logits in the input order, computed (with gradients, in
    the model's current mode) in pieces of similar length: the loss of a
    batch is the same mean over its utterances, with little padding."""
    rows = [None] * len(speech)
    for piece in length_chunks([s.shape[0] for s in speech], chunk):
        logits = logits_of(model, *pad([speech[i] for i in piece]))
        for row, i in enumerate(piece):
            rows[i] = logits[row]
    return torch.stack(rows)


def padded_batches(lengths: Sequence[int], max_frames: int) -> List[List[int]]:
    """Indices sorted by length (longest first) and cut into batches whose
    padded size (utterances x longest) is at most max_frames (at least one
    utterance each)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, k = [], 0
    while k < len(order):
        size = max(1, max_frames // max(lengths[order[k]], 1))
        batches.append(order[k : k + size])
        k += size
    return batches


# Frames per padded batch of batched_logits (utterances x longest):
# bench/scoring_layout.py, 50 forget utterances of the default model,
# 0.62 s in batches of equal length, 0.41 s padded to at most 2400 frames
# (about 8 utterances), 1.15 s padded to 20000.
PADDED_FRAMES = 2400
EQUAL_LENGTH_FRAMES = 20000


@torch.no_grad()
def batched_logits(model, speech: Sequence[torch.Tensor], max_frames: Optional[int] = None) -> torch.Tensor:
    """(N, classes) logits of every utterance in eval mode, each as it
    scores alone up to float rounding (tests/recipe/test_stages_1_4.py
    compares with ESPnet's cls_inference): padded batches with the masks
    each utterance gets alone where the model allows it (exact_padding.py),
    else batches of equal length."""
    from espnet2_unlearn import exact_padding

    was_training = model.training
    model.eval()
    lengths = [s.shape[0] for s in speech]
    exact = exact_padding.supported(model)
    batches = (padded_batches(lengths, max_frames or PADDED_FRAMES) if exact
               else length_batches(lengths, max_frames or EQUAL_LENGTH_FRAMES))
    out = [None] * len(speech)
    with exact_padding.exact_masks(model) if exact else contextlib.nullcontext():
        for batch in batches:
            logits = logits_of(model, *pad([speech[i] for i in batch]))
            for row, i in enumerate(batch):
                out[i] = logits[row]
    model.train(was_training)
    return torch.stack(out)

"""Calls into an ESPnet classification model that stage 5 and the decoding
of stages 4, 6 and 7 share: padding a list of utterances into a batch, the
class scores of a batch, and scoring many utterances in batches."""

from typing import List, Sequence, Tuple

import torch


def pad(speech: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded batch and lengths."""
    lengths = torch.tensor([s.shape[0] for s in speech], dtype=torch.long, device=speech[0].device)
    return torch.nn.utils.rnn.pad_sequence(list(speech), batch_first=True), lengths


def logits_of(model, speech: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Class scores of an ESPnet classification model, before softmax."""
    encoded, encoded_lengths = model.encode(speech, lengths)
    return model.decoder(encoded, encoded_lengths)


def length_batches(lengths: Sequence[int], max_frames: int) -> List[List[int]]:
    """Indices grouped into batches of similar length (sorted, longest first),
    each holding at most max_frames padded frames (and at least one utterance),
    so that little padding is computed."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches, current = [], []
    for i in order:
        # The first (longest) utterance of a batch sets its padded length.
        if current and (len(current) + 1) * lengths[current[0]] > max_frames:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@torch.no_grad()
def batched_logits(model, speech: Sequence[torch.Tensor], max_frames: int = 20000) -> torch.Tensor:
    """(N, classes) logits of every utterance, computed in padded batches of
    similar length in eval mode.  ESPnet masks the padding everywhere
    (normalisation, subsampling, attention, pooling), so each row equals the
    one-utterance result up to float rounding (tests/test_model_calls.py)."""
    was_training = model.training
    model.eval()
    out = [None] * len(speech)
    for batch in length_batches([s.shape[0] for s in speech], max_frames):
        logits = logits_of(model, *pad([speech[i] for i in batch]))
        for row, i in enumerate(batch):
            out[i] = logits[row]
    model.train(was_training)
    return torch.stack(out)

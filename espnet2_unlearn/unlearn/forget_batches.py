"""Which forget utterances each step trains on, chosen by --forget_batch.

random: a fresh random batch of batch_size every step.

pending: the utterances whose prediction (at the scoring after the last
step) is not yet the one the forget objective asks for come first, in a
random order, and the batch is filled up with the others.  The accuracy
target falls quickly and then crawls: on the over-fitted built-in model the
last few relabeled utterances took half of the 45-80 steps, as a random batch
of 32 of 50 held about two thirds of them, while the utterances already
where the objective wants them were pushed further on."""

import torch


def random_batch(generator: torch.Generator, batch_size: int, pending: torch.Tensor) -> torch.Tensor:
    return torch.randperm(len(pending), generator=generator)[:batch_size]


def pending_first(generator: torch.Generator, batch_size: int, pending: torch.Tensor) -> torch.Tensor:
    order = torch.randperm(len(pending), generator=generator)
    # a stable sort keeps the random order within each group
    first = torch.argsort((~pending[order]).to(torch.int8), stable=True)
    return order[first][:batch_size]


FORGET_BATCHES = {"random": random_batch, "pending": pending_first}

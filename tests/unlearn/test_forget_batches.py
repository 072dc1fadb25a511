import torch

from espnet2_unlearn.unlearn.forget_batches import pending_first, random_batch
from espnet2_unlearn.unlearn.objectives import LabelObjective
from tiny_model import tiny_forget_set


def test_random_is_the_draw_of_the_generator_whatever_is_pending():
    pending = torch.tensor([True, False] * 10)
    got = random_batch(torch.Generator().manual_seed(3), 8, pending)
    assert torch.equal(got, torch.randperm(20, generator=torch.Generator().manual_seed(3))[:8])


def test_pending_utterances_come_first_and_the_rest_fills_the_batch():
    pending = torch.zeros(20, dtype=torch.bool)
    pending[[2, 5, 11]] = True
    idx = pending_first(torch.Generator().manual_seed(0), 8, pending)
    assert len(idx) == 8 and len(set(idx.tolist())) == 8
    assert set(idx[:3].tolist()) == {2, 5, 11}
    assert not pending[idx[3:]].any()
    # more pending than the batch holds: only pending ones, and which ones changes with the draw
    pending[:12] = True
    draws = {tuple(sorted(pending_first(torch.Generator().manual_seed(s), 8, pending).tolist())) for s in range(5)}
    assert all(max(d) < 12 for d in draws) and len(draws) > 1


def test_pending_is_what_the_objective_has_not_got_yet():
    forget = tiny_forget_set(n=4)
    labels = forget.labels
    relabels = labels.clone()
    relabels[0] = (labels[0] + 1) % 4
    predictions = labels.clone()
    assert LabelObjective("targeted", relabels).pending(forget, predictions).tolist() == [True, False, False, False]
    soft = torch.nn.functional.one_hot(relabels, 5).float() * 0.7 + 0.06
    assert LabelObjective("heldout_losses", soft).pending(forget, predictions).tolist() == [True, False, False, False]
    predictions[1] = (labels[1] + 2) % 4
    assert LabelObjective("ascent", labels).pending(forget, predictions).tolist() == [True, False, True, True]

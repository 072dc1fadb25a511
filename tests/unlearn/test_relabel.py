import torch

from espnet2_unlearn.unlearn.relabel import (forget_loss, heldout_loss_targets, random_relabel, soften_kept,
                                             targeted_relabel)
from espnet2_unlearn.unlearn.stopping import LossReference


def test_relabels_never_equal_the_true_label_and_repeat_for_a_seed():
    labels = torch.randint(0, 4, (500,), generator=torch.Generator().manual_seed(1))
    new = random_relabel(labels, range(4), seed=7)
    assert (new != labels).all() and new.min() >= 0 and new.max() < 4
    assert torch.equal(new, random_relabel(labels, range(4), seed=7))
    assert not torch.equal(new, random_relabel(labels, range(4), seed=8))
    # Uniform over the three other classes: each offset about a third.
    offsets = (new - labels) % 4
    assert all(abs(float((offsets == k).float().mean()) - 1 / 3) < 0.08 for k in (1, 2, 3))


def test_forget_loss_modes():
    logits = torch.tensor([[4.0, 0.0, 0.0, 0.0]])
    y, y_new = torch.tensor([0]), torch.tensor([2])
    relabel = forget_loss(logits, y, y_new, "relabel")
    ascent = forget_loss(logits, y, y_new, "ascent")
    assert relabel > 3.9 and ascent < 0
    assert torch.isclose(ascent, -torch.nn.functional.cross_entropy(logits, y))


def test_targeted_relabel_changes_only_the_least_confident_share():
    probs = torch.tensor([[0.9, 0.05, 0.03, 0.02],   # sure of its true class 0
                          [0.5, 0.1, 0.4, 0.0],     # least sure: goes to class 2
                          [0.1, 0.8, 0.05, 0.05],
                          [0.2, 0.1, 0.1, 0.6]])    # second least sure: goes to class 0
    labels = torch.tensor([0, 0, 1, 3])
    # target 0.5: two of four must be wrong
    assert targeted_relabel(probs, labels, 0.5, range(4)).tolist() == [0, 2, 1, 0]
    assert targeted_relabel(probs, labels, 1.0, range(4)).tolist() == labels.tolist()
    relabels = targeted_relabel(probs, labels, 0.0, range(4))
    assert (relabels != labels).all()



def test_kept_labels_get_a_held_out_confidence_and_changed_ones_stay_hard():
    labels = torch.tensor([0, 1, 2])
    relabels = torch.tensor([3, 1, 2])  # the first was changed
    targets = soften_kept(relabels, labels, range(4), 4, 0.7)
    assert torch.equal(targets[0], torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert torch.allclose(targets[1], torch.tensor([0.1, 0.7, 0.1, 0.1]))
    assert torch.allclose(targets.sum(1), torch.ones(3))
    # the loss accepts them as they are
    logits = torch.zeros(3, 4, requires_grad=True)
    forget_loss(logits, labels, targets, "targeted").backward()
    # the gradient of the mean soft cross-entropy at uniform logits: (softmax - target) / batch
    assert torch.allclose(logits.grad, (torch.full((3, 4), 0.25) - targets) / 3)


def test_heldout_loss_targets_give_each_rank_its_held_out_loss():
    levels = tuple(q / 100 for q in range(101))
    reference = LossReference(levels, tuple(2.0 * q for q in levels), 100, "test")  # losses uniform on [0, 2]
    # four utterances, true class 0 at falling confidence; outputs 4 and 5 are <blank>/<unk>-like (never targets)
    probs = torch.tensor([[0.9, 0.02, 0.03, 0.01, 0.03, 0.01], [0.7, 0.2, 0.05, 0.01, 0.03, 0.01],
                          [0.5, 0.1, 0.3, 0.04, 0.05, 0.01], [0.2, 0.1, 0.1, 0.3, 0.29, 0.01]])
    labels = torch.zeros(4, dtype=torch.long)
    targets = heldout_loss_targets(probs, labels, reference, classes=range(4))
    # rank r (most confident first) gets the held-out loss at quantile (r + 1/2) / 4
    expected = torch.exp(-torch.tensor([0.25, 0.75, 1.25, 1.75]))
    assert torch.allclose(targets[:, 0], expected)
    # the rest on the most probable wrong class that is a class
    assert targets[:, 1:].argmax(1).tolist() == [1, 0, 1, 2]  # classes 2, 1, 2, 3 of the rest
    assert torch.allclose(targets.sum(1), torch.ones(4)) and (targets[:, 4:] == 0).all()

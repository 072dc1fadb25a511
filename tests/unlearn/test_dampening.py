"""Selective dampening: the Fisher diagonal, and which weights it shrinks."""

import torch

from espnet2_unlearn.model_calls import logits_of, pad

from espnet2_unlearn.unlearn.dampening import dampen, fisher_diagonal, load_importance, save_importance
from tiny_model import tiny_forget_set, tiny_model


def test_fisher_diagonal_is_the_mean_squared_gradient(tmp_path):
    model = tiny_model(stats_file=tmp_path / "feats_stats.npz")
    data = tiny_forget_set(n=4, mean=6.0, std=2.0)
    fisher = fisher_diagonal(model, data.speech, data.labels)
    assert set(fisher) == {n for n, p in model.named_parameters() if p.requires_grad}
    assert all((f >= 0).all() for f in fisher.values())
    # one utterance's: its own squared gradient
    one = fisher_diagonal(model, data.speech[:1], data.labels[:1])
    model.zero_grad()
    torch.nn.functional.cross_entropy(logits_of(model, *pad(data.speech[:1])), data.labels[:1]).backward()
    name, p = next((n, p) for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0)
    assert torch.allclose(one[name], p.grad ** 2)


def test_dampen_shrinks_only_the_weights_the_forget_set_singles_out(tmp_path):
    model = tiny_model()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    names = list(before)
    forget = {n: torch.ones_like(p) for n, p in before.items()}
    train = {n: torch.ones_like(p) for n, p in before.items()}
    train[names[0]] = torch.full_like(before[names[0]], 0.01)  # forget importance 100x the training data's
    count = dampen(model, forget, train, alpha=10.0, strength=1.0)
    after = dict(model.named_parameters())
    assert count == before[names[0]].numel()
    assert torch.allclose(after[names[0]], before[names[0]] * 0.01)
    assert all(torch.equal(after[n], before[n]) for n in names[1:])
    # saved and loaded as it was
    save_importance(train, tmp_path / "train_importance.pth", {"num_utts": 1})
    assert torch.equal(load_importance(tmp_path / "train_importance.pth")[names[0]], train[names[0]])
    assert not list(tmp_path.glob(".*.tmp"))

import torch
import torch.nn.functional as F

import pytest
from espnet2.layers.utterance_mvn import UtteranceMVN

from espnet2_unlearn.unlearn.adversarial import (NormaliserError, check_normaliser, draw_targets, feature_scale,
                                                 make_adversarial_set, max_distance, retention_loss, targeted_pgd)
from espnet2_unlearn.model_calls import logits_of, pad
from tiny_model import tiny_forget_set, tiny_model


def test_targets_avoid_the_true_label_and_spread_over_classes():
    labels = torch.tensor([0, 1, 2, 3])
    t = draw_targets(labels, range(4), per_utt=3, generator=torch.Generator().manual_seed(0))
    assert t.shape == (4, 3)
    for y, row in zip(labels.tolist(), t.tolist()):
        assert y not in row and len(set(row)) == 3


def test_pgd_stays_within_clip_and_raises_target_probability():
    model, forget = tiny_model(), tiny_forget_set()
    x, lengths = pad(forget.speech)
    targets = (forget.labels + 1) % 4
    x_adv = targeted_pgd(model, x, lengths, targets, adv_clip=0.3, step_size=0.05, steps=20,
                         generator=torch.Generator().manual_seed(0))
    assert (x_adv - x).abs().max() <= 0.3 + 1e-6
    for i, n in enumerate(lengths.tolist()):  # padding is left alone
        assert torch.equal(x_adv[i, n:], x[i, n:])
    with torch.no_grad():
        p_before = F.softmax(logits_of(model, x, lengths), -1).gather(1, targets[:, None])
        p_after = F.softmax(logits_of(model, x_adv, lengths), -1).gather(1, targets[:, None])
    assert (p_after > p_before).all()


def test_adversarial_set_is_labelled_by_the_model_and_repeats():
    model, forget = tiny_model(), tiny_forget_set(n=5)
    adv = make_adversarial_set(model, forget, range(4), per_utt=2, adv_clip=0.5, step_size=0.1, steps=5, seed=3)
    assert len(adv.speech) == len(adv.labels) == 10
    assert adv.sources.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    with torch.no_grad():
        for s, y in zip(adv.speech, adv.labels):
            x, lengths = pad([s])
            assert logits_of(model, x, lengths).argmax(-1).item() == y.item()
    again = make_adversarial_set(model, forget, range(4), per_utt=2, adv_clip=0.5, step_size=0.1, steps=5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(adv.speech, again.speech))
    # The attack success rate is the share of examples the model puts in the attacked class.
    assert adv.success_rate == pytest.approx(float((adv.labels == adv.targets).float().mean()))
    assert adv.targets.tolist() != adv.labels.tolist() or adv.success_rate == 1.0
    assert all(t != forget.labels[src] for t, src in zip(adv.targets.tolist(), adv.sources.tolist()))
    assert torch.allclose(adv.probs.sum(-1), torch.ones(10)) and torch.equal(adv.probs.argmax(-1), adv.labels)


def test_retention_loss_hard_and_soft():
    model, forget = tiny_model(), tiny_forget_set(n=3)
    adv = make_adversarial_set(model, forget, range(4), per_utt=2, adv_clip=0.5, step_size=0.1, steps=3, seed=0)
    idx = torch.arange(6)
    x, lengths = pad(adv.speech)
    with torch.no_grad():
        logits = logits_of(model, x, lengths)
    hard = retention_loss(logits, adv, idx, "hard")
    assert hard == pytest.approx(float(F.cross_entropy(logits, adv.labels)), rel=1e-5)
    # The soft loss is the cross-entropy to theta0's own distribution: at theta0
    # (same padding) it equals that distribution's entropy, its minimum.
    soft = retention_loss(logits, adv, idx, "soft")
    p = adv.probs
    assert soft == pytest.approx(float(-(p * p.log()).sum(-1).mean()), rel=1e-3)
    assert retention_loss(logits + torch.randn_like(logits), adv, idx, "soft") > soft
    with pytest.raises(ValueError):
        retention_loss(logits, adv, idx, "other")


def test_kept_examples_stay_within_adv_clip_of_their_source_with_global_mvn(tmp_path):
    # Every recipe's model normalises with global_mvn, which works in place on
    # inputs that need no gradient: the stored examples must still be raw
    # features next to their sources, not normalised ones.
    model = tiny_model(stats_file=tmp_path / "feats_stats.npz")
    forget = tiny_forget_set(n=5, mean=6.0, std=2.0)
    kept = [s.clone() for s in forget.speech]
    adv = make_adversarial_set(model, forget, range(4), per_utt=2, adv_clip=0.5, step_size=0.1, steps=5, seed=0)
    # adv_clip is in standard deviations of each feature (2 here)
    for example, src in zip(adv.speech, adv.sources.tolist()):
        assert (example - forget.speech[src]).abs().max() <= 0.5 * 2 + 1e-5
        assert (example - forget.speech[src]).abs().max() > 0.5  # the radius is used, in those units
    assert all(torch.equal(a, b) for a, b in zip(kept, forget.speech))
    # the report's distances say the same
    worst, worst_in_clip_units = max_distance(model, adv, forget)
    assert 0.5 < worst <= 0.5 * 2 + 1e-5 and 0.25 < worst_in_clip_units <= 0.5 + 1e-4
    # and their labels are what the model says about them as stored
    with torch.no_grad():
        for example, y in zip(adv.speech, adv.labels):
            assert logits_of(model, *pad([example])).argmax(-1).item() == y.item()


def test_logits_of_leaves_its_input_alone_under_global_mvn(tmp_path):
    model = tiny_model(stats_file=tmp_path / "feats_stats.npz")
    x, lengths = pad(tiny_forget_set(n=3, mean=6.0, std=2.0).speech)
    kept = x.clone()
    with torch.no_grad():
        first = logits_of(model, x, lengths)
        assert torch.equal(x, kept) and torch.equal(logits_of(model, x, lengths), first)


def test_feature_scale_follows_the_normaliser(tmp_path):
    x, lengths = pad(tiny_forget_set(n=3, mean=6.0, std=2.0).speech)
    assert torch.equal(feature_scale(tiny_model(), x, lengths), torch.ones(1, 1, 8))
    scale = feature_scale(tiny_model(stats_file=tmp_path / "s.npz"), x, lengths)
    assert torch.allclose(scale, torch.full((1, 1, 8), 2.0))
    model = tiny_model()
    model.normalize = UtteranceMVN(norm_vars=True)
    per_utt = feature_scale(model, x, lengths)
    assert per_utt.shape == (3, 1, 8)
    assert torch.allclose(per_utt[1, 0], x[1, : lengths[1]].std(0, unbiased=False), atol=1e-5)


def test_unknown_normaliser_or_a_frontend_is_refused():
    model = tiny_model()
    model.normalize = torch.nn.Identity()
    with pytest.raises(NormaliserError, match="normaliser Identity is unknown"):
        check_normaliser(model)
    model = tiny_model()
    model.frontend = torch.nn.Identity()
    with pytest.raises(NormaliserError, match="front-end"):
        check_normaliser(model)

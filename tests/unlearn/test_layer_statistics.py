"""Training statistics per layer: what the rows are, that they add up and
can be taken away again exactly, and that foreign statistics are refused."""

import pytest
import torch

from espnet2_unlearn.model_calls import logits_of, pad
from espnet2_unlearn.unlearn import layer_statistics as ls
from tiny_model import tiny_forget_set, tiny_model


def test_rows_are_what_the_weights_multiply():
    conv = torch.nn.Conv1d(3, 5, kernel_size=3, stride=2)
    x = torch.randn(1, 3, 11)
    rows = ls.input_rows(conv, x)
    w = torch.cat([conv.weight.reshape(5, -1), conv.bias.view(-1, 1)], 1)
    assert torch.allclose(rows @ w.T, ls.output_rows(conv, conv(x)), atol=1e-6)
    lin = torch.nn.Linear(4, 2)
    x = torch.randn(1, 7, 4)
    rows = ls.input_rows(lin, x)
    assert rows.shape == (7, 5) and torch.equal(rows[:, -1], torch.ones(7))


def test_statistics_add_up_and_downdate_exactly():
    model = tiny_model(input_layer="conv1d2")
    data = tiny_forget_set(n=6)
    whole = ls.accumulate(model, data.speech, data.utts, seed=0)
    part = ls.accumulate(model, data.speech[2:], data.utts[2:], seed=0)
    # Linear and Conv1d layers of the encoder and the decoder
    assert "encoder.embed.conv.0" in whole["layers"] and "decoder.linear_out" in whole["layers"]
    ls.accumulate(model, data.speech[:2], data.utts[:2], seed=0, stats=whole, sign=-1)
    assert whole["utts"] == part["utts"] == 4
    for name, s in part["layers"].items():
        assert whole["layers"][name]["frames"] == s["frames"]
        for key in ("inputs", "output_grads"):
            assert torch.allclose(whole["layers"][name][key], s[key], atol=1e-9, rtol=1e-9), (name, key)
    # the decoder's input is the pooled vector: one row per utterance
    assert part["layers"]["decoder.linear_out"]["frames"] == 4
    # the model's gradients are left as they were
    assert all(p.grad is None for p in model.parameters())


def test_statistics_of_another_model_are_refused(tmp_path):
    model = tiny_model()
    data = tiny_forget_set(n=2)
    stats = ls.accumulate(model, data.speech, data.utts, seed=0)
    ls.save(stats, tmp_path / ls.STATISTICS_FILE, {"num_utts": 2})
    loaded = ls.load(tmp_path / ls.STATISTICS_FILE)
    ls.check_against(loaded, model, "s.pth")
    with pytest.raises(ls.StatisticsError, match="layer encoder.embed.conv.0"):
        ls.check_against(loaded, tiny_model(input_layer="conv1d2"), "s.pth")
    loaded["layers"]["decoder.linear_out"]["inputs"] = torch.zeros(3, 3, dtype=torch.float64)
    with pytest.raises(ls.StatisticsError, match=r"decoder.linear_out inputs is \(3, 3\)"):
        ls.check_against(loaded, model, "s.pth")
    assert logits_of(model, *pad(data.speech)).shape == (2, 4)

import torch

from espnet2_unlearn.model_calls import batched_logits, length_batches, pad


def test_length_batches_hold_equal_lengths_within_the_frame_budget():
    lengths = [5, 300, 120, 5, 300, 300, 1000, 5]
    batches = length_batches(lengths, max_frames=600)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len({lengths[i] for i in b}) == 1
        assert len(b) == 1 or len(b) * lengths[b[0]] <= 600
    assert [6] in batches and [1, 4] in batches and [5] in batches and [0, 3, 7] in batches


class MeanModel(torch.nn.Module):
    """Stands for an ESPnet model's encode/decoder: masked mean of the frames."""

    def encode(self, x, lengths):
        return x, lengths

    def decoder(self, x, lengths):
        mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        return (x * mask[..., None]).sum(1) / lengths[:, None]


def test_batched_logits_keep_the_input_order_and_match_one_at_a_time():
    torch.manual_seed(0)
    speech = [torch.randn(n, 3) for n in (4, 9, 1, 9, 6)]
    got = batched_logits(MeanModel(), speech, max_frames=20)
    want = torch.cat([MeanModel().decoder(*pad([s])) for s in speech])
    assert torch.allclose(got, want, atol=1e-6)

import torch

from espnet2_unlearn.model_calls import batched_logits, length_batches, pad


def test_length_batches_cover_every_index_once_within_the_frame_budget():
    lengths = [5, 300, 120, 7, 300, 64, 1000, 2]
    batches = length_batches(lengths, max_frames=600)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert len(b) == 1 or len(b) * longest <= 600
    assert batches[0] == [6]  # longer than the budget: alone


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

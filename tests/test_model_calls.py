import torch

from espnet2_unlearn.model_calls import batched_logits, length_batches, length_chunks, logits_in_chunks, pad


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


def test_length_chunks_sort_longest_first_and_cover_every_index_once():
    lengths = [5, 300, 120, 5, 300, 7]
    assert length_chunks(lengths, chunk=2) == [[1, 4], [2, 5], [0, 3]]
    assert length_chunks([], chunk=8) == []


def test_logits_in_chunks_keep_the_input_order_and_the_gradient():
    torch.manual_seed(0)
    speech = [torch.randn(n, 3, requires_grad=True) for n in (4, 9, 1, 9, 6)]
    got = logits_in_chunks(MeanModel(), speech, chunk=2)
    want = torch.cat([MeanModel().decoder(*pad([s])) for s in speech])
    assert torch.allclose(got, want, atol=1e-6)
    got.sum().backward()
    # each frame of an utterance gets 1/frames of the mean's gradient: none lost to chunking or padding
    assert all(torch.allclose(s.grad, torch.full_like(s, 1 / s.shape[0])) for s in speech)

"""exact_padding: a padded batch scores every utterance as it scores alone."""

import pytest
import torch

from espnet2_unlearn import exact_padding
from espnet2_unlearn.espnet_imports import CLSTask
from espnet2_unlearn.model_calls import batched_logits, logits_of, pad


def model_with(encoder: str, input_layer: str):
    conf = ["--encoder_conf", "output_size=16", "--encoder_conf", "attention_heads=2",
            "--encoder_conf", "linear_units=16", "--encoder_conf", "num_blocks=2"]
    if encoder == "transformer":
        conf += ["--encoder_conf", f"input_layer={input_layer}"]
    args = CLSTask.get_parser().parse_args(["--token_list", "x", "--output_dir", "/nonexistent", "--input_size", "8",
                                            "--encoder", encoder, "--normalize", "utterance_mvn"] + conf)
    args.token_list = ["angry", "happy", "neutral", "sad", "<unk>"]
    torch.manual_seed(0)
    return CLSTask.build_model(args).eval()


def utterances():
    g = torch.Generator().manual_seed(1)
    return [torch.randn(n, 8, generator=g) for n in (41, 23, 30, 31, 58, 23, 44, 27, 36, 29)]


def alone(model, speech):
    with torch.no_grad():
        return torch.stack([logits_of(model, *pad([s]))[0] for s in speech])


@pytest.mark.parametrize("input_layer", ["conv1d2", "conv2d", "conv2d2", "linear"])
def test_a_padded_batch_scores_as_one_utterance_at_a_time(input_layer):
    model, speech = model_with("transformer", input_layer), utterances()
    assert exact_padding.supported(model)
    got = batched_logits(model, speech, max_frames=10_000)  # one padded batch of all ten
    assert torch.allclose(got, alone(model, speech), atol=1e-5)


def test_without_the_cut_masks_a_padded_batch_scores_otherwise():
    """The mechanism matters: ESPnet's own mask of a padded batch moves the
    logits of the shorter utterances."""
    model, speech = model_with("transformer", "conv1d2"), utterances()
    with torch.no_grad():
        padded = logits_of(model, *pad(speech))
        with exact_padding.exact_masks(model):
            exact = logits_of(model, *pad(speech))
    want = alone(model, speech)
    assert (padded - want).abs().max() > 1e-3
    assert torch.allclose(exact, want, atol=1e-5)
    assert not model.encoder.embed._forward_hooks  # the hook is gone afterwards


def test_a_model_the_argument_does_not_cover_keeps_batches_of_equal_length():
    model, speech = model_with("conformer", ""), utterances()
    assert not exact_padding.supported(model)  # its convolution module mixes frames across the valid length
    assert torch.allclose(batched_logits(model, speech), alone(model, speech), atol=1e-5)

"""Taking the front-end out of a model, its features, putting it back, and
telling a fine-tuned SSL front-end from a pretrained one."""

import pytest
import torch
from espnet2.asr.frontend.default import DefaultFrontend

from espnet2_unlearn.unlearn.front_end import attached, detach_front_end, features, fine_tuned_keys


class WithFrontEnd(torch.nn.Module):
    def __init__(self, front_end):
        super().__init__()
        self.frontend = front_end
        self.head = torch.nn.Linear(8, 2)


def test_the_front_end_is_taken_out_frozen_and_put_back_unchanged():
    model = WithFrontEnd(DefaultFrontend(n_fft=256, hop_length=80, n_mels=8))
    keys = list(model.state_dict())
    front_end = detach_front_end(model)
    assert model.frontend is None and not front_end.training
    assert not any(p.requires_grad for p in front_end.parameters())
    assert all(not k.startswith("frontend.") for k in model.state_dict())
    wav = [torch.randn(1600), torch.randn(800)]
    feats = features(front_end, wav)
    assert [f.shape for f in feats] == [(21, 8), (11, 8)]  # one utterance at a time: no padding frames
    with attached(model, front_end) as whole:
        assert list(whole.state_dict()) == keys
    assert model.frontend is None
    assert features(None, wav) is not None and features(None, wav)[0] is wav[0]
    assert detach_front_end(torch.nn.Linear(2, 2)) is None
    assert fine_tuned_keys(front_end) == [] and fine_tuned_keys(None) == []


def test_a_fine_tuned_ssl_front_end_is_told_from_a_pretrained_one(tmp_path):
    transformers = pytest.importorskip("transformers")
    from espnet2.asr.frontend.huggingface import HuggingFaceFrontend

    config = transformers.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                         intermediate_size=32, conv_dim=(16,) * 7, num_conv_pos_embeddings=8,
                                         num_conv_pos_embedding_groups=2)
    transformers.Wav2Vec2Model(config).save_pretrained(tmp_path)
    transformers.Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(tmp_path)
    front_end = HuggingFaceFrontend(str(tmp_path))
    assert fine_tuned_keys(front_end) == []
    with torch.no_grad():
        front_end.encoder.feature_projection.projection.weight.add_(0.01)
    assert fine_tuned_keys(front_end) == ["feature_projection.projection.weight"]

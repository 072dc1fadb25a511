import numpy as np
import pytest
import torch
from torchaudio.compliance import kaldi

from helpers import ROOT
from espnet2_unlearn.data.fbank import compute_fbank, read_fbank_conf


def test_equals_torchaudio_kaldi_fbank():
    opts = read_fbank_conf(ROOT / "conf/fbank.conf")
    audio = (np.random.default_rng(0).normal(0, 0.1, 16000)).astype(np.float32)
    ours = compute_fbank(audio, opts)
    ref = kaldi.fbank(torch.from_numpy(audio * 32768).unsqueeze(0), num_mel_bins=80, dither=0.0,
                      sample_frequency=16000, frame_length=25, frame_shift=10).numpy()
    assert ours.shape == (98, 80)
    np.testing.assert_array_equal(ours, ref)


def test_conf_options_are_typed_and_checked(tmp_path):
    conf = tmp_path / "fbank.conf"
    conf.write_text("--num-mel-bins=40\n--snip-edges=false\n# comment\n")
    assert read_fbank_conf(conf) == {"num_mel_bins": 40, "snip_edges": False}
    conf.write_text("--num-mel-bins=40\n--no-such-option=1\n")
    with pytest.raises(ValueError, match=r"fbank.conf:2: unknown fbank option --no-such-option"):
        read_fbank_conf(conf)

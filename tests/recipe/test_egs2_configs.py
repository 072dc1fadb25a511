"""Each egs2 recipe's own train_ser.yaml builds an ESPnet classification model."""

import argparse

import pytest
import torch
import yaml

from helpers import ROOT
from espnet2.tasks.cls import CLSTask


def build(config):
    parser = CLSTask.get_parser()
    args = parser.parse_args(["--token_list", "x", "--output_dir", "x", "--input_size", "80", "--config", str(config)])
    args.token_list = ["angry", "happy", "neutral", "sad", "<unk>"]
    return CLSTask.build_model(argparse.Namespace(**vars(args)))


def size(config):
    return sum(p.numel() for p in build(config).parameters())


@pytest.mark.parametrize("corpus", ["cremad", "emodb", "iemocap", "ravdess"])
def test_recipe_config_builds(corpus):
    config = ROOT / "egs2" / corpus / "ser1/conf/train_ser.yaml"
    conf = yaml.safe_load(config.read_text())
    assert conf["num_att_plot"] == 0
    model = build(config)
    # the encoder the config asks for, and the four emotions out
    assert type(model.encoder).__name__.lower().startswith(conf["encoder"])
    assert model.decoder(torch.zeros(2, 7, model.encoder.output_size()), torch.tensor([7, 5])).shape == (2, 4)


def test_larger_corpora_get_a_larger_model():
    default = size(ROOT / "conf/train_ser.yaml")
    for corpus in ("cremad", "iemocap"):
        assert 6 * default < size(ROOT / "egs2" / corpus / "ser1/conf/train_ser.yaml") < 10 * default

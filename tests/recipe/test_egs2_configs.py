"""Each egs2 recipe's own train_ser.yaml builds an ESPnet classification model."""

import argparse

import pytest
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
    assert yaml.safe_load(config.read_text())["num_att_plot"] == 0
    assert size(config) > 0


def test_larger_corpora_get_a_larger_model():
    default = size(ROOT / "conf/train_ser.yaml")
    for corpus in ("cremad", "iemocap"):
        assert 6 * default < size(ROOT / "egs2" / corpus / "ser1/conf/train_ser.yaml") < 10 * default

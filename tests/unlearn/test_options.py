"""Stage 5's options come from one declaration: the parser's defaults, the
checks' choices and bounds, the recorded hyper-parameters and the configs."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from espnet2_unlearn.tasks.unlearn import UnlearnTask
from espnet2_unlearn.unlearn import inputs
from espnet2_unlearn.unlearn.options import UnlearnOptions, fields

ROOT = Path(__file__).resolve().parents[2]


def test_the_parser_adds_each_own_option_with_its_declared_default_and_choices():
    parser = UnlearnTask.get_parser()
    actions = {a.dest: a for a in parser._actions}
    assert UnlearnTask.own_options() == [f.name for f in fields(own=True)]
    for f in fields(own=True):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert actions[f.name].default == default, f.name
        assert tuple(actions[f.name].choices or ()) == f.metadata["choices"], f.name
    # the inherited ones are ESPnet's, and their defaults here are ESPnet's (grad_clip: ours, 0)
    for f in fields(own=False):
        assert f.name in actions, f.name
        assert actions[f.name].default == getattr(UnlearnOptions(), f.name), f.name


def test_options_from_the_parsed_arguments_and_the_recorded_hyperparameters():
    args = UnlearnTask.get_parser().parse_args(["--adv_num", "3", "--grad_clip_type", "1.0", "--output_dir", "x"])
    opts = UnlearnOptions.from_namespace(args)
    assert opts.adv_num == 3 and opts.output_dir == "x"
    hyper = opts.hyperparameters()
    assert hyper["adv_num"] == 3 and hyper["grad_clip_type"] == 1.0  # honoured, so recorded
    assert "output_dir" not in hyper and "source_model" not in hyper and "process_start" not in hyper
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.adv_num = 4


def test_the_checks_use_the_declared_choices_and_bounds():
    assert inputs.CHOICES["forget_loss"] == ("relabel", "targeted", "heldout_losses", "ascent", "none")
    assert inputs.BOUNDS["projection_energy"] == {"low": 0, "inclusive": False, "high": 1, "integer": False}
    assert inputs.BOUNDS["max_steps"]["integer"] and inputs.BOUNDS["adv_weight"]["inclusive"]


@pytest.mark.parametrize("config", ["conf/unlearn.yaml", "conf/unlearn_seed.yaml"])
def test_every_entry_of_the_configs_is_an_option(config):
    names = {f.name for f in fields()}
    conf = yaml.safe_load((ROOT / config).read_text())
    assert set(conf) <= names, set(conf) - names

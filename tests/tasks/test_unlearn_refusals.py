"""What stage 5 refuses, naming the cause, before it writes anything: on a
small untrained model saved as ESPnet saves one (tests/small_recipe.py), so
that these run without training a model."""

import shutil

import pytest
import torch

from helpers import run
from unlearn_runs import EXP, fails, unlearn_cmd, unlearn_error
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.tasks.unlearn import UnlearnTask


@pytest.fixture(scope="module")
def forget10(small, tmp_path_factory):
    path = tmp_path_factory.mktemp("forget") / "forget10"
    run(f"python -m espnet2_unlearn.bin.make_forget --num_utts 10 --seed 1 data/train {path}", cwd=small)
    return path


def test_unknown_empty_and_duplicated_ids(small, tmp_path):
    d = small
    train = sorted(read_table(d / "data/train/utt2spk"))
    (tmp_path / "unknown").write_text(f"{train[0]}\nspk99_sad_001\n")
    fails(d, tmp_path / "o1", tmp_path / "unknown", "utterance spk99_sad_001 of the forget list is not in")
    heldout = sorted(read_table(d / "data/heldout/utt2spk"))[0]
    (tmp_path / "heldout").write_text(f"{heldout}\n")
    fails(d, tmp_path / "o2", tmp_path / "heldout", f"utterance {heldout} of the forget list is not in")
    (tmp_path / "empty").write_text("")
    fails(d, tmp_path / "o3", tmp_path / "empty", "is empty")
    (tmp_path / "dup").write_text(f"{train[0]}\n{train[1]}\n{train[0]}\n")
    fails(d, tmp_path / "o4", tmp_path / "dup", f"dup:3: utterance {train[0]} is listed twice")


def test_label_missing_from_token_list(small, forget10, tmp_path):
    d = small
    text = read_table(d / "dump/fbank/train/text")
    victim = sorted(read_table(forget10 / "utt2spk"))[0]
    text[victim] = "bored"
    (tmp_path / "text").write_text("".join(f"{u} {v}\n" for u, v in sorted(text.items())))
    fails(d, tmp_path / "out", forget10, f"label 'bored' of forget utterance {victim} is not one of the model's classes",
          text=tmp_path / "text")


def test_model_dir_without_config_or_model(small, forget10, tmp_path):
    d = small
    partial = tmp_path / "model"
    partial.mkdir()
    shutil.copy(d / EXP / "config.yaml", partial / "config.yaml")
    model = partial / "valid.acc.best.pth"
    fails(d, tmp_path / "out", forget10, f"source model file {model} does not exist", source_model=model)
    (partial / "config.yaml").unlink()
    shutil.copy(d / EXP / "valid.acc.best.pth", model)
    fails(d, tmp_path / "out", forget10, f"source config {partial}/config.yaml does not exist", source_model=model)


def test_existing_output_dir(small, forget10, tmp_path):
    d = small
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert "already exists" in unlearn_error(d, out, forget10)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_training_options_that_would_do_nothing_are_refused(small, forget10, tmp_path):
    d = small
    for option in ("--max_epoch 5", "--accum_grad 2", "--init_param x.pth", "--patience 3"):
        name = option.split()[0]
        fails(d, tmp_path / "out", forget10, f"{name} is an option of ESPnet's training that unlearning does not use",
              option)
    fails(d, tmp_path / "out", forget10, "--scheduler reducelronplateau: unlearning steps a scheduler after every "
          "update", "--scheduler reducelronplateau")


def test_bad_numbers_are_refused_by_name_before_any_work(small, forget10, tmp_path):
    d = small
    fails(d, tmp_path / "out", forget10, "--adv_clip must be greater than 0, got -0.5", "--adv_clip -0.5")
    fails(d, tmp_path / "out", forget10, "--optim_conf lr must be greater than 0", "--optim_conf lr=0")
    conf = tmp_path / "bad.yaml"  # a config file's value is parsed as the option's type: refused by argparse
    conf.write_text((d / "conf/unlearn.yaml").read_text() + "elastic_weight: strong\n")
    proc = run("python -m espnet2_unlearn.bin.unlearn_train " + unlearn_cmd(tmp_path / "out", forget10)
               + f" --config {conf}", cwd=d, check=False)
    assert "--elastic_weight" in proc.stderr and "strong" in proc.stderr and not (tmp_path / "out").exists()


def test_a_model_file_that_does_not_load_strictly_is_refused_naming_the_keys(small, forget10, tmp_path):
    d = small
    message = unlearn_error(d, tmp_path / "never", forget10, source_model=f"{EXP}/checkpoint.pth")
    assert "checkpoint.pth is not a state dict" in message and "training checkpoint" in message
    source = tmp_path / "source"
    shutil.copytree(d / EXP, source)
    state = torch.load(source / "train.loss.ave.pth")
    del state["decoder.linear_out.bias"]
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, source / "other.pth")
    message = unlearn_error(d, tmp_path / "never", forget10, source_model=f"{source}/other.pth")
    assert "missing 1 keys (decoder.linear_out.bias)" in message and "unexpected 1 keys (extra.weight)" in message
    (source / "cut.pth").write_bytes((source / "train.loss.ave.pth").read_bytes()[:1000])
    assert "cut.pth cannot be read" in unlearn_error(d, tmp_path / "never", forget10,
                                                     source_model=f"{source}/cut.pth")
    assert not (tmp_path / "never").exists()


def test_a_distribution_stop_without_a_usable_reference_is_refused_naming_the_option(small, forget10, tmp_path):
    d = small  # its reference_stats.json summarises no utterances
    fails(d, tmp_path / "out", forget10, "--stop_metric distribution: the 'heldout' reference in "
          f"{EXP}/reference_stats.json summarises 0 utterances, fewer than 20",
          "--stop_metric distribution --forget_loss heldout_losses")


@pytest.mark.parametrize("where", ["command line", "config"])
def test_the_options_of_removed_mechanisms_are_refused(tmp_path, capsys, where):
    """Saliency, dampening, the K-FAC step and the nearest-adversarial target
    measured no help and were removed (docs/design.md): a config that still
    sets one is told so by argparse, not silently run without it."""
    parser = UnlearnTask.get_parser()
    if where == "config":
        config = tmp_path / "old.yaml"
        config.write_text("dampening_alpha: 0.0\n")
        argv = ["--config", str(config)]
    else:
        argv = ["--curvature_step", "kfac"]
    with pytest.raises(SystemExit):
        parser.parse_args(argv + ["--output_dir", str(tmp_path / "out")])
    assert ("dampening_alpha" if where == "config" else "--curvature_step") in capsys.readouterr().err

"""bench/scaling.py: a scale that cannot be generated is refused before
anything is made, and a scale trained from other inputs is trained again."""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import scaling  # noqa: E402


@pytest.mark.parametrize("spec, message", [
    ("3=12,22", "12 speakers cannot give 8 valid, 8 test and at least one training speaker"),
    ("3=28,8", "32 utterances per training speaker leave none to train on after the 32 run.sh holds out"),
])
def test_a_scale_that_cannot_be_generated_is_refused_before_training(tmp_path, spec, message):
    root = tmp_path / "scaling"
    r = subprocess.run([sys.executable, "bench/scaling.py", "--scales", "1", spec, "--root", str(root),
                        "--store", str(tmp_path / "store")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0
    assert message in r.stderr
    assert not root.exists() and not (tmp_path / "store").exists()


def test_an_unknown_scale_is_named():
    r = subprocess.run([sys.executable, "bench/scaling.py", "--scales", "5"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and "scale 5 is not one of [1, 2, 4, 8]" in r.stderr


def copy_of_the_repository(dest: Path) -> Path:
    for name in scaling.SOURCE_FILES + scaling.UNLEARN_FILES:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "espnet2_unlearn", dest / "espnet2_unlearn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A copy of what the keys read, as the working directory, and the bench's options."""
    repo = copy_of_the_repository(tmp_path / "repo")
    monkeypatch.chdir(repo)
    return repo, argparse.Namespace(root=tmp_path / "scaling", threads=1, num_forget=50, forget_seeds=[0],
                                    store=tmp_path / "store")


def test_a_scale_trained_with_another_config_is_trained_again(repository):
    repo, args = repository
    scale = scaling.Scale(1, scaling.SCALES[1], args)
    model = scale.dir / scaling.SOURCE_EXP
    model.mkdir(parents=True)
    (model / scaling.INFERENCE_MODEL).write_bytes(b"")
    (model / scaling.KEY_FILE).write_text(scale.source_key + "\n")
    assert scale.source_state() == "reuse"
    # A model of another scale's corpus under this directory is not this scale's.
    assert scaling.Scale(1, (40, 22), args).source_state() == "train"
    # Nor is one trained for another number of epochs (a directory of its own).
    assert scaling.Scale(1, (28, 22, 10), args).source_key != scale.source_key
    config = repo / "conf/train_ser.yaml"
    config.write_text(config.read_text().replace("max_epoch: 30", "max_epoch: 20"))
    retrained = scaling.Scale(1, scaling.SCALES[1], args)
    assert retrained.source_key != scale.source_key
    assert retrained.source_state() == "train"
    # ... and restored, not trained, once the store holds a model of the new key.
    args.store.mkdir()
    (args.store / f"source_{retrained.source_key}.tar.gz").write_bytes(b"")
    assert retrained.source_state() == "restore"


def test_a_change_to_the_data_code_retrains_and_one_to_the_statistics_code_recomputes_only_them(repository):
    repo, args = repository
    before = scaling.Scale(1, scaling.SCALES[1], args)
    with open(repo / "espnet2_unlearn/unlearn/layer_statistics.py", "a") as f:
        f.write("\n# other statistics\n")
    statistics = scaling.Scale(1, scaling.SCALES[1], args)
    assert statistics.source_key == before.source_key and statistics.tail_key != before.tail_key
    with open(repo / "espnet2_unlearn/data/builtin_corpus.py", "a") as f:
        f.write("\n# another generator\n")
    assert scaling.Scale(1, scaling.SCALES[1], args).source_key != before.source_key
    purge = repo / "espnet2_unlearn/bin/purge.py"
    purge.write_text(purge.read_text() + "\n")
    after = scaling.Scale(1, scaling.SCALES[1], args).source_key
    with open(purge, "a") as f:
        f.write("# stage 9 only\n")
    assert scaling.Scale(1, scaling.SCALES[1], args).source_key == after


def test_existing_only_trains_nothing_and_says_what_is_missing(tmp_path):
    root = tmp_path / "scaling"
    r = subprocess.run([sys.executable, "bench/scaling.py", "--scales", "1", "8", "--existing_only", "--root", str(root),
                        "--store", str(tmp_path / "store")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0
    assert "x1: not complete: the source model (train)" in r.stderr
    assert "x8: not complete" in r.stderr and "no scale is complete" in r.stderr
    assert not root.exists()


def _row(scale, train_utts, unlearn_s, default_epochs=True):
    return {"scale": scale, "train_utts": train_utts, "epochs": 30 if default_epochs else 8,
            "default_epochs": default_epochs, "gold_compute_s": train_utts / 2, "gold_process_s": train_utts / 2 + 60,
            "gold_peak_rss_mib": 1800.0, "steps": 20.0, "unlearn_compute_s": unlearn_s,
            "unlearn_process_s": unlearn_s + 5, "unlearn_peak_rss_mib": 1400.0, "original_train_acc": 0.9,
            "original_heldout_acc": 0.6, "original_test_uar": 0.6, "sets": [],
            "speedup_compute": train_utts / 2 / unlearn_s, "speedup_process": (train_utts / 2 + 60) / (unlearn_s + 5)}


def test_growth_and_speed_are_judged_on_the_scales_trained_for_the_configs_epochs():
    # The fewer-epochs scale would make the unlearning cost grow (4000 utts, 80 s) if it were fitted.
    rows = [_row("x1", 600, 40.0), _row("x4_e8", 4000, 80.0, default_epochs=False), _row("x8", 6000, 40.0)]
    text = "\n".join(scaling.report(rows))
    assert "| x4_e8 | 4000 | 8 |" in text
    assert "(the scales trained for the config's epochs: x1, x8)" in text
    assert "- unlearning, compute: b = 0.00" in text
    assert "## Speed bars, judged at x8 (6000 training utterances)" in text


def test_existing_only_takes_an_earlier_runs_figures_only_when_made_from_the_same_model_and_code(tmp_path):
    args = argparse.Namespace(root=tmp_path / "scaling", store=tmp_path / "store", threads=1)
    same = dict(_row("x1", 672, 40.0), code_key=scaling.Scale(1, scaling.SCALES[1], args).code_key)
    other = dict(_row("x8", 5376, 40.0), code_key="0" * 12)
    earlier = tmp_path / "SCALING.json"
    earlier.write_text(__import__("json").dumps([same, other]))
    r = subprocess.run([sys.executable, "bench/scaling.py", "--scales", "1", "8", "--existing_only", "--root",
                        str(args.root), "--store", str(args.store), "--earlier", str(earlier), "--output",
                        str(tmp_path / "S.md")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "x1: figures of" in r.stderr and "x8: not complete" in r.stderr
    text = (tmp_path / "S.md").read_text()
    assert "| x1 | 672 | 30 |" in text and "| x8 |" not in text
    assert "Taken from" in text and "(x1)" in text

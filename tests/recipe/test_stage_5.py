"""run.sh --stage 5 and 6 after stages 1-4 of the tiny recipe."""

import hashlib
import json
import shutil

import pytest

from conftest import TINY_DATA, make_recipe_dir, run
from espnet2_unlearn.data.kaldi_dir import read_table

STAGE5 = f"./run.sh --stage 5 --stop_stage 5 {TINY_DATA} --tag tiny --unlearn_args '--max_steps 5'"


@pytest.fixture
def recipe(tiny_recipe, tmp_path):
    src, _ = tiny_recipe
    d = make_recipe_dir(tmp_path / "recipe")
    shutil.rmtree(d / "conf")
    for name in ("conf", "data", "dump", "exp"):
        shutil.copytree(src / name, d / name, symlinks=True)
    return d


def model_hashes(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((d / "exp/ser_tiny").iterdir()) if p.is_file()}


def test_default_forget_set_and_speaker_request(recipe):
    before = model_hashes(recipe)
    proc = run(f"{STAGE5} --default_forget_utts 10", cwd=recipe)
    assert "No --forget_list given: forgetting data/forget_rand10_seed0" in proc.stdout
    out = recipe / "exp/unlearn_forget_rand10_seed0"
    report = json.loads((out / "forget_report.json").read_text())
    assert report["num_forget_utts"] == 10 and report["forget_request"] == "utterance"
    assert (out / "config.yaml").exists() and (out / "unlearned.pth").exists()
    assert (recipe / "exp/logs/unlearn_forget_rand10_seed0.log").exists()

    proc = run(f"./run.sh --stage 6 --stop_stage 6 {TINY_DATA} --tag tiny --default_forget_utts 10", cwd=recipe)
    evaldir = out / "eval"
    metrics = json.loads((evaldir / "metrics.json").read_text())
    assert set(metrics["models"]) == {"original", "unlearned"}
    unlearned = metrics["models"]["unlearned"]
    assert unlearned["forget"]["num_utts"] == 10 and unlearned["retain"]["num_utts"] == 122
    # Stage 6 scores with ESPnet's inference, as stage 5 does: the same forget accuracy.
    assert unlearned["forget"]["accuracy"] == pytest.approx(report["forget_accuracy_after"])
    assert unlearned["mia"]["nonmember_set"] == "heldout"
    for name in ("RESULTS.md", "methods.png", "confusion_test.png"):
        assert (evaldir / name).exists()
    assert "| unlearned |" in proc.stdout

    spk = sorted(set(read_table(recipe / "data/train/utt2spk").values()))[0]
    run(f"python -m espnet2_unlearn.bin.make_forget --speakers {spk} data/train data/forget_{spk}", cwd=recipe)
    run(f"{STAGE5} --forget_list data/forget_{spk}", cwd=recipe)
    report = json.loads((recipe / f"exp/unlearn_forget_{spk}/forget_report.json").read_text())
    assert report["forget_request"] == "speaker"
    assert report["target"]["source"].startswith("valid accuracy")
    assert model_hashes(recipe) == before


def test_id_file_and_bad_requests(recipe):
    before = model_hashes(recipe)
    ids = sorted(read_table(recipe / "data/train/utt2spk"))[:5]
    (recipe / "forget.ids").write_text("".join(u + "\n" for u in ids))
    run(f"{STAGE5} --forget_list forget.ids", cwd=recipe)
    assert (recipe / "exp/unlearn_forget.ids/unlearned.pth").exists()

    proc = run(f"{STAGE5} --forget_list forget.ids", cwd=recipe, check=False)
    assert "exp/unlearn_forget.ids already exists" in proc.stderr

    proc = run(f"{STAGE5} --forget_list no_such_list", cwd=recipe, check=False)
    assert "forget list no_such_list does not exist" in proc.stderr

    (recipe / "bad.ids").write_text(ids[0] + "\nnot_an_utterance\n")
    proc = run(f"{STAGE5} --forget_list bad.ids", cwd=recipe, check=False)
    assert "utterance not_an_utterance of the forget list is not in dump/fbank/train/feats.scp" in proc.stderr
    assert not (recipe / "exp/unlearn_bad.ids").exists()
    assert model_hashes(recipe) == before


def test_stage_5_needs_a_model(recipe):
    shutil.rmtree(recipe / "exp/ser_tiny")
    proc = run(f"{STAGE5} --forget_list data/train", cwd=recipe, check=False)
    assert "exp/ser_tiny/config.yaml does not exist: run stage 4 first" in proc.stderr

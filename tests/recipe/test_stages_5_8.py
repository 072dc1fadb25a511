"""run.sh stages 5-8 after stages 1-4 of the tiny recipe."""

import hashlib
import json
import shutil
import zipfile

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

    # Stages 6-8: evaluation, gold standard and two baselines, evaluation again, packing.
    proc = run(f"./run.sh --stage 6 {TINY_DATA} --tag tiny --ser_config conf/train_tiny.yaml "
               "--default_forget_utts 10 --baselines 'relabel finetune' --finetune_epochs 2", cwd=recipe)
    evaldir = out / "eval"
    metrics = json.loads((evaldir / "metrics.json").read_text())
    assert list(metrics["models"]) == ["original", "unlearned", "gold", "relabel", "finetune"]
    unlearned = metrics["models"]["unlearned"]
    assert unlearned["forget"]["num_utts"] == 10 and unlearned["retain"]["num_utts"] == 122
    # Stage 6 scores with ESPnet's inference, as stage 5 does: the same forget accuracy.
    assert unlearned["forget"]["accuracy"] == pytest.approx(report["forget_accuracy_after"])
    assert unlearned["mia"]["nonmember_set"] == "heldout"
    assert unlearned["wall_time_s"] == pytest.approx(report["wall_time_s"])
    assert unlearned["speedup_over_gold"] > 0 and 0 <= unlearned["gap_to_gold"]["mean"] <= 100
    assert set(metrics["bars"]) == {"model", "utility", "forgetting", "speed", "memory"}
    # The gold model never saw the forget set; it has the original's config and seed.
    gold = recipe / "exp/gold_forget_rand10_seed0"
    assert json.loads((gold / "train_report.json").read_text())["num_train_utts"] == 122
    forget_ids = set(read_table(recipe / "data/forget_rand10_seed0/utt2spk"))
    assert not forget_ids & set(read_table(recipe / "dump/fbank/train_retain_forget_rand10_seed0/feats.scp"))
    gold_conf = (gold / "config.yaml").read_text()
    assert "seed: 0" in gold_conf and "train_retain_forget_rand10_seed0/feats.scp" in gold_conf
    relabel = json.loads((recipe / "exp/baseline_relabel_forget_rand10_seed0/forget_report.json").read_text())
    assert relabel["hyperparameters"]["adv_weight"] == 0 and relabel["hyperparameters"]["elastic_weight"] == 0
    assert "max_epoch: 2" in (recipe / "exp/baseline_finetune_forget_rand10_seed0/config.yaml").read_text()
    text = (evaldir / "RESULTS.md").read_text()
    for section in ("## Gap to gold", "## Wall time", "## Bars"):
        assert section in text
    for name in ("methods.png", "confusion_test.png", "confusion_forget.png"):
        assert (evaldir / name).read_bytes()[:4] == b"\x89PNG"
    assert "| gold |" in proc.stdout and "Results: exp/unlearn_forget_rand10_seed0/eval/RESULTS.md" in proc.stdout

    # The packed model loads in ESPnet's inference from where it is unpacked.
    pack = out / "packed/unlearn_forget_rand10_seed0.zip"
    with zipfile.ZipFile(pack) as z:
        names = z.namelist()
        z.extractall(recipe / "unpacked")
    conf = next(n for n in names if n.endswith("config.yaml"))
    pth = next(n for n in names if n.endswith("unlearned.pth"))
    assert any(n.endswith("forget_report.json") for n in names) and any(n.endswith("RESULTS.md") for n in names)
    # Absolute feature paths, so that nothing but the archive is read relative to unpacked/.
    scp = recipe / "test_abs.scp"
    scp.write_text("".join(f"{u} {recipe / p}\n" for u, p in read_table(recipe / "dump/fbank/test/feats.scp").items()))
    run(f"cd unpacked && python -m espnet2.bin.cls_inference --ngpu 0 "
        f"--data_path_and_name_and_type {scp},speech,kaldi_ark "
        f"--classification_train_config {conf} --classification_model_file {pth} --output_dir ../packed_decode",
        cwd=recipe)
    assert len(read_table(recipe / "packed_decode/prediction/text")) == len(
        read_table(recipe / "dump/fbank/test/feats.scp"))

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


def test_unknown_baseline(recipe):
    proc = run(f"./run.sh --stage 7 --baselines 'relabel bogus' {TINY_DATA} --tag tiny", cwd=recipe, check=False)
    assert "unknown baseline 'bogus'" in proc.stderr
    assert not list((recipe / "exp").glob("gold_*"))


def test_stage_5_needs_a_model(recipe):
    shutil.rmtree(recipe / "exp/ser_tiny")
    proc = run(f"{STAGE5} --forget_list data/train", cwd=recipe, check=False)
    assert "exp/ser_tiny/config.yaml does not exist: run stage 4 first" in proc.stderr

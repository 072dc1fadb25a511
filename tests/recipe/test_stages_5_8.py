"""run.sh stages 5-8 after stages 1-4 of the tiny recipe."""

import hashlib
import json
import shutil
import zipfile

import pytest
import yaml

from helpers import TINY_DATA, copy_recipe, run
from espnet2_unlearn.data.forget_list import content_key
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.unlearn.stopping import ks_critical

STAGE5 = f"./run.sh --stage 5 --stop_stage 5 {TINY_DATA} --tag tiny --unlearn_args '--max_steps 5 --allow_unreached true'"


@pytest.fixture
def recipe(tiny_recipe, tmp_path):
    return copy_recipe(tiny_recipe[0], tmp_path / "recipe", ("conf", "data", "dump", "exp"))


def model_hashes(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((d / "exp/ser_tiny").iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def served(tiny_recipe, tmp_path_factory):
    """Stage 5 on the default forget set, then stages 6-8 (evaluation, gold
    and two baselines, evaluation again, packing), once for the tests below.
    No --ser_config: gold and the fine-tune baseline follow the source
    model's config.yaml."""
    recipe = copy_recipe(tiny_recipe[0], tmp_path_factory.mktemp("served") / "recipe", ("conf", "data", "dump", "exp"))
    before = model_hashes(recipe)
    stage5 = run(f"{STAGE5} --default_forget_utts 10", cwd=recipe)
    rest = run(f"./run.sh --stage 6 {TINY_DATA} --tag tiny --default_forget_utts 10 "
               "--baselines 'relabel finetune' --finetune_epochs 2 --reference_seeds '1 2'", cwd=recipe)
    out = recipe / "exp/unlearn_forget_rand10_seed0"
    return {"recipe": recipe, "before": before, "stage5": stage5, "rest": rest, "out": out,
            "report": json.loads((out / "forget_report.json").read_text()),
            "metrics": json.loads((out / "eval/metrics.json").read_text())}


def test_stage_5_makes_a_default_forget_set(served):
    recipe, out, report = served["recipe"], served["out"], served["report"]
    assert "No --forget_list given: forgetting data/forget_rand10_seed0" in served["stage5"].stdout
    assert report["num_forget_utts"] == 10 and report["forget_request"] == "utterance"
    assert (out / "config.yaml").exists() and (out / "unlearned.pth").exists()
    assert (recipe / "exp/logs/unlearn_forget_rand10_seed0.log").exists()
    # the command that made it, as cls.sh records its own
    assert "unlearn.sh" in (out / "run.sh").read_text() and "--outdir exp/unlearn_forget_rand10_seed0" in (
        out / "run.sh").read_text()
    assert model_hashes(recipe) == served["before"]


def test_stage_6_scores_every_model_with_paired_intervals(served):
    metrics, report, out = served["metrics"], served["report"], served["out"]
    assert list(metrics["models"]) == ["original", "unlearned", "gold", "relabel", "finetune"]
    unlearned = metrics["models"]["unlearned"]
    assert unlearned["forget"]["num_utts"] == 10 and unlearned["retain"]["num_utts"] == 110
    # Stage 6 scores with ESPnet's inference, as stage 5 does: the same forget accuracy.
    assert unlearned["forget"]["accuracy"] == pytest.approx(report["forget_accuracy_after"])
    assert unlearned["mia"]["nonmember_set"] == "heldout"
    assert unlearned["compute_time_s"] == pytest.approx(report["compute_time_s"])
    process = json.loads((out / "process_time.json").read_text())["process_time_s"]
    assert unlearned["process_time_s"] == pytest.approx(process) and process > report["compute_time_s"]
    assert set(unlearned["speedup_over_gold"]) == {"compute", "process"}
    g = metrics["models"]["gold"]
    gaps = [abs(unlearned[s][k] - g[s][k]) * 100 for s, k in (("forget", "accuracy"), ("retain", "accuracy"),
                                                               ("test", "uar"), ("mia", "efficacy"))]
    assert unlearned["gap_to_gold"]["mean"] == pytest.approx(sum(gaps) / 4)
    # Per forget utterance (no ids), for a bench to pool the forgetting bar.
    assert len(unlearned["forget_outcomes"]["forget_correct"]) == 10
    assert 0 < unlearned["first_model_call_s"] < process
    # Paired intervals against the original and gold, on the same resamples.
    d = unlearned["vs"]["original"]["test_uar"]
    assert d["low"] <= d["value"] <= d["high"] and d["n"] == 24
    # and against the mean of gold's seeds (gold and the reference models retrained without the forget set)
    assert set(unlearned["vs"]) == {"original", "gold", "gold_seeds"}
    seeds = unlearned["vs"]["gold_seeds"]["test_uar"]
    assert seeds["num_seeds"] == 3 and seeds["low"] <= seeds["value"] <= seeds["high"]


def test_the_bars_follow_from_the_figures(served):
    metrics = served["metrics"]
    unlearned, bars = metrics["models"]["unlearned"], metrics["bars"]
    assert set(bars) == {"model", "utility floor", "utility", "forgetting", "forgetting (pooled)", "attack",
                         "speed (compute)", "speed (process)", "start-up", "memory"}
    # speed is judged at a real corpus's size only: the tiny corpus's gold leaves it unresolved
    assert bars["speed (compute)"]["status"] == bars["speed (process)"]["status"] == "not resolved"
    # the tiny model's peak RSS is far under 2 GiB; its start-up is what the report says
    assert bars["memory"]["status"] == ("met" if unlearned["peak_rss_mib"] <= 2048 else "not met")
    assert bars["start-up"]["status"] == ("met" if unlearned["first_model_call_s"] <= 5 else "not met")
    # the utility floor: met only when the upper end of gold's seeds' mean - unlearned is at most 1 point
    gap = unlearned["vs"]["gold_seeds"]["test_uar"]
    assert "mean of 3 gold seeds" in bars["utility floor"]["what"]
    floor = bars["utility floor"]["status"]
    if -gap["low"] <= 1:
        assert floor == "met"
    elif -gap["high"] > 1:
        assert floor == "not met"
    else:
        assert floor == "not resolved"


def test_stage_7_trains_gold_without_the_forget_set_as_the_source_was_trained(served):
    recipe = served["recipe"]
    forget_ids = sorted(read_table(recipe / "data/forget_rand10_seed0/utt2spk"))
    key = content_key(forget_ids)
    gold = recipe / f"exp/gold_ser_tiny_{key}"
    gold_report = json.loads((gold / "train_report.json").read_text())
    assert gold_report["num_train_utts"] == 110 and gold_report["forget_key"] == key
    assert 0 < gold_report["compute_time_s"] < gold_report["process_time_s"]
    assert not set(forget_ids) & set(read_table(recipe / f"dump/fbank/train_retain_{key}/feats.scp"))
    source_conf = yaml.safe_load((recipe / "exp/ser_tiny/config.yaml").read_text())
    gold_conf = yaml.safe_load((gold / "config.yaml").read_text())
    for option in ("seed", "encoder_conf", "max_epoch", "optim_conf", "keep_nbest_models", "normalize"):
        assert gold_conf[option] == source_conf[option], option
    assert gold_conf["train_data_path_and_name_and_type"][0][0] == f"dump/fbank/train_retain_{key}/feats.scp"
    assert gold_conf["normalize_conf"]["stats_file"] == f"exp/gold_ser_tiny_{key}_stats/train/feats_stats.npz"
    assert "--stage 6" in (gold / "run.sh").read_text()  # the command that trained it
    relabel = json.loads((recipe / "exp/baseline_relabel_forget_rand10_seed0/forget_report.json").read_text())
    assert relabel["hyperparameters"]["adv_weight"] == 0 and relabel["hyperparameters"]["elastic_weight"] == 0
    assert "max_epoch: 2" in (recipe / "exp/baseline_finetune_forget_rand10_seed0/config.yaml").read_text()
    assert not list((recipe / "exp").glob(".forget_ids.*")) and not list((recipe / "exp").glob(".retrain_config.*"))


def test_reference_models_and_the_per_utterance_attack(served):
    recipe, metrics = served["recipe"], served["metrics"]
    forget_key = content_key(sorted(read_table(recipe / "data/forget_rand10_seed0/utt2spk")))
    for seed in (1, 2):
        into, out = recipe / f"exp/ser_tiny_seed{seed}", recipe / f"exp/gold_ser_tiny_{forget_key}_seed{seed}"
        for d, utts in ((into, len(read_table(recipe / "data/train/utt2spk"))), (out, None)):
            assert yaml.safe_load((d / "config.yaml").read_text())["seed"] == seed
            report = json.loads((d / "train_report.json").read_text())
            assert report["num_train_utts"] == (utts or metrics["models"]["gold"]["retain"]["num_utts"])
    assert "Per-utterance attack: reference models of seeds 1 2" in served["rest"].stdout
    for name, m in metrics["models"].items():
        a = m["lira"]
        assert a["num_in_models"] == a["num_out_models"] == 2 and a["num_utts"] == 10
        assert 0 <= a["auc"] <= 1 and 0 <= a["tpr_at_1pct_fpr"] <= a["tpr_at_5pct_fpr"] <= 1
        # gold is the seed no fit saw: the others are judged against it.
        assert ("auc_vs_floor" in a) == (name != "gold")
    attack = metrics["bars"]["attack"]
    assert attack["value"] == metrics["models"]["unlearned"]["lira"]["auc_vs_floor"] and attack["bar"] == 0.05
    assert "## Per-utterance attack" in (served["out"] / "eval/RESULTS.md").read_text()
    # A later stage 6 finds them without being told the seeds.
    proc = run(f"./run.sh --stage 6 --stop_stage 6 {TINY_DATA} --tag tiny --default_forget_utts 10", cwd=recipe)
    assert "reference models of seeds 1 2" in proc.stdout
    again = json.loads((served["out"] / "eval/metrics.json").read_text())
    assert again["models"]["unlearned"]["lira"] == metrics["models"]["unlearned"]["lira"]


def test_the_attack_without_reference_models_says_how_to_make_them(recipe):
    run(f"{STAGE5} --default_forget_utts 10", cwd=recipe)
    stage6 = f"./run.sh --stage 6 --stop_stage 6 {TINY_DATA} --tag tiny --default_forget_utts 10 --lira true"
    proc = run(stage6, cwd=recipe, check=False)
    assert "at least 2 seeds, found none" in proc.stderr and "--stage 7 --stop_stage 7" in proc.stderr
    assert "--reference_seeds" in proc.stderr and not (recipe / "exp/unlearn_forget_rand10_seed0/eval/metrics.json").exists()
    proc = run(f"{stage6} --reference_seeds '1 2'", cwd=recipe, check=False)
    assert "reference models missing: exp/ser_tiny_seed1 exp/gold_ser_tiny_" in proc.stderr


def test_results_and_plots(served):
    evaldir = served["out"] / "eval"
    text = (evaldir / "RESULTS.md").read_text()
    for section in ("## Difference from original", "## Difference from gold", "## Gap to gold", "## Time",
                    "## Bars"):
        assert section in text
    for name in ("methods.png", "confusion_test.png", "confusion_forget.png"):
        assert (evaldir / name).read_bytes()[:4] == b"\x89PNG"
    assert "| gold |" in served["rest"].stdout
    assert "Results: exp/unlearn_forget_rand10_seed0/eval/RESULTS.md" in served["rest"].stdout


def test_the_packed_model_loads_in_espnet_inference_where_it_is_unpacked(served):
    recipe, out = served["recipe"], served["out"]
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


def test_a_speaker_request(recipe):
    before = model_hashes(recipe)
    spk = sorted(set(read_table(recipe / "data/train/utt2spk").values()))[0]
    run(f"python -m espnet2_unlearn.bin.make_forget --speakers {spk} data/train data/forget_{spk}", cwd=recipe)
    run(f"{STAGE5} --forget_list data/forget_{spk}", cwd=recipe)
    report = json.loads((recipe / f"exp/unlearn_forget_{spk}/forget_report.json").read_text())
    assert report["forget_request"] == "speaker"
    assert report["target"]["source"].startswith("valid accuracy")
    assert model_hashes(recipe) == before


def test_forgetting_until_the_losses_look_held_out(recipe):
    """--forget_loss heldout_losses with --stop_metric distribution on the
    recipe's own model: stage 4's loss percentiles are the reference.  Without
    the projection: with it the distance stalls above the target, here (0.496
    to 0.372 against 0.313 in 200 steps) as on the built-in model (bench/ATTACK.md)."""
    stats = json.loads((recipe / "exp/ser_tiny/reference_stats.json").read_text())["sets"]["heldout"]
    assert len(stats["loss_percentiles"]) == 101 and stats["num_utts"] >= 20
    run(f"./run.sh --stage 5 --stop_stage 5 {TINY_DATA} --tag tiny --default_forget_utts 10 --unlearn_args "
        "'--forget_loss heldout_losses --stop_metric distribution --update_transform none --stop_alpha 0.5'",
        cwd=recipe)
    report = json.loads((recipe / "exp/unlearn_forget_rand10_seed0/forget_report.json").read_text())
    target = report["target"]
    assert target["metric"] == "distribution" and target["reached"]
    # 0.5, not the default 0.05: ten utterances are too few for a test at 5 % to tell the tiny model's
    # memorised forget set from its held-out losses (distance 0.496 against 0.511: no step to take)
    assert target["value"] == pytest.approx(ks_critical(10, stats["num_utts"], 0.5))
    assert "Kolmogorov-Smirnov distance to the heldout losses" in target["source"]
    # the memorised forget set starts far from the held-out losses and ends within the target
    assert report["forget_loss_distance_before"] > target["value"] >= report["forget_loss_distance_after"]
    assert report["forget_median_loss_after"] > report["forget_median_loss_before"]
    assert [e["forget_loss_distance"] for e in report["step_log"]][-1] == report["forget_loss_distance_after"]


def test_id_file_and_bad_requests(recipe):
    before = model_hashes(recipe)
    ids = sorted(read_table(recipe / "data/train/utt2spk"))[:5]
    (recipe / "forget.ids").write_text("".join(u + "\n" for u in ids))
    run(f"{STAGE5} --forget_list forget.ids --unlearn_args '--max_steps 5 --allow_unreached true --seed 3'", cwd=recipe)
    assert (recipe / "exp/unlearn_forget.ids/unlearned.pth").exists()
    # A seed given in --unlearn_args wins over the recipe's --seed.
    report = json.loads((recipe / "exp/unlearn_forget.ids/forget_report.json").read_text())
    assert report["hyperparameters"]["seed"] == 3

    proc = run(f"{STAGE5} --forget_list forget.ids", cwd=recipe, check=False)
    assert "exp/unlearn_forget.ids already exists" in proc.stderr

    proc = run(f"{STAGE5} --forget_list no_such_list", cwd=recipe, check=False)
    assert "forget list no_such_list does not exist" in proc.stderr

    (recipe / "bad.ids").write_text(ids[0] + "\nnot_an_utterance\n")
    proc = run(f"{STAGE5} --forget_list bad.ids", cwd=recipe, check=False)
    assert "utterance not_an_utterance (line 2) of the forget list is not in dump/fbank/train/utt2spk" in proc.stderr
    assert not (recipe / "exp/unlearn_bad.ids").exists()
    # Stage 7 refuses it before any gold model is trained.
    proc = run(f"./run.sh --stage 7 --stop_stage 7 {TINY_DATA} --tag tiny --forget_list bad.ids", cwd=recipe,
               check=False)
    assert "utterance not_an_utterance (line 2) of the forget list is not in dump/fbank/train/utt2spk" in proc.stderr
    assert not list((recipe / "exp").glob("gold_*")) and not list((recipe / "dump/fbank").glob("train_retain_*"))
    # An unknown model file is refused with the ones there are.
    proc = run(f"{STAGE5} --forget_list forget.ids --unlearn_tag other --inference_model nope.pth", cwd=recipe,
               check=False)
    assert "exp/ser_tiny/nope.pth does not exist (--inference_model); model files in exp/ser_tiny:" in proc.stderr
    assert "valid.acc.ave.pth" in proc.stderr.split("model files in")[1]
    assert model_hashes(recipe) == before


def test_gold_is_keyed_by_the_content_of_the_forget_list(served, tmp_path):
    # On a copy of the served recipe: its request's gold model is there already.
    recipe = copy_recipe(served["recipe"], tmp_path / "recipe")
    first = sorted(read_table(recipe / "data/forget_rand10_seed0/utt2spk"))
    first_gold = recipe / f"exp/gold_ser_tiny_{content_key(first)}"
    first_model = (first_gold / "train.loss.ave.pth").read_bytes()
    stage7 = f"./run.sh --stage 7 --stop_stage 7 {TINY_DATA} --tag tiny --baselines '' --forget_list forget.ids"
    # The same utterances under another name and order: the gold model is reused.
    (recipe / "forget.ids").write_text("".join(u + "\n" for u in reversed(first)))
    run(f"{STAGE5} --forget_list forget.ids --unlearn_tag again", cwd=recipe)
    proc = run(f"{stage7} --unlearn_tag again", cwd=recipe)
    assert f"{first_gold.name} (forget key" in proc.stdout and "exists: kept" in proc.stdout
    # Same name, other utterances: a gold model of its own, the first one untouched.
    other = [u for u in sorted(read_table(recipe / "data/train/utt2spk")) if u not in first][:4]
    (recipe / "forget.ids").write_text("".join(u + "\n" for u in other))
    run(f"{STAGE5} --forget_list forget.ids --unlearn_tag other", cwd=recipe)
    proc = run(f"{stage7} --unlearn_tag other", cwd=recipe)
    assert "exists: kept" not in proc.stdout
    golds = {f"gold_ser_tiny_{content_key(ids)}" for ids in (first, other)}
    # (beside them, their statistics and the served request's reference seeds)
    assert golds == {p.name for p in (recipe / "exp").glob("gold_ser_tiny_*") if p.name.count("_") == 3}
    assert (first_gold / "train.loss.ave.pth").read_bytes() == first_model
    metrics = json.loads((recipe / "exp/unlearn_other/eval/metrics.json").read_text())
    assert metrics["models"]["gold"]["forget"]["num_utts"] == 4


def test_unknown_baseline(recipe):
    proc = run(f"./run.sh --stage 7 --baselines 'relabel bogus' {TINY_DATA} --tag tiny", cwd=recipe, check=False)
    assert "unknown baseline 'bogus'" in proc.stderr
    assert not list((recipe / "exp").glob("gold_*"))


def test_stage_5_needs_a_model(recipe):
    shutil.rmtree(recipe / "exp/ser_tiny")
    proc = run(f"{STAGE5} --forget_list data/train", cwd=recipe, check=False)
    assert "exp/ser_tiny/config.yaml does not exist: run stage 4 first" in proc.stderr

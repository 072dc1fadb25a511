"""Stage 9 on the tiny recipe: a served request's utterances leave data/,
dump/, exp/ and the recipe's own audio; a scan proves it; the audit record
holds no ids; an interrupted purge finishes when run again."""

import hashlib
import json
import zipfile

import kaldiio
import numpy as np
import pytest
import yaml

from helpers import TINY_DATA, copy_recipe, run
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.layout import Layout
from espnet2_unlearn.purge import request as purge

RUN = f"./run.sh {TINY_DATA} --tag tiny"


@pytest.fixture
def recipe(tiny_recipe, tmp_path):
    return copy_recipe(tiny_recipe[0], tmp_path / "recipe", ("conf", "data", "dump", "exp", "downloads"))


def tree_hashes(d, roots=("data", "dump", "exp", "downloads")):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for r in roots for p in sorted((d / r).rglob("*")) if p.is_file()}


def serve(d, speaker):
    """A one-speaker request through stages 5 and 6; returns its list and ids."""
    forget = f"data/forget_{speaker}"
    run(f". ./path.sh && python -m espnet2_unlearn.bin.make_forget --speakers {speaker} data/train {forget}", cwd=d)
    ids = sorted(read_table(d / forget / "utt2spk"))
    run(f"{RUN} --stage 5 --stop_stage 6 --forget_list {forget} --unlearn_args '--max_steps 3 --allow_unreached true'", cwd=d)
    return forget, ids


def test_purge_of_a_speaker_request(recipe, tmp_path, monkeypatch):
    d = recipe
    monkeypatch.chdir(d)  # scp paths are relative to the recipe
    speaker = sorted(read_table(d / "data/train/spk2utt"))[0]
    forget, ids = serve(d, speaker)
    kept = sorted(set(read_table(d / "dump/fbank/train/feats.scp")) - set(ids))[0]
    kept_matrix = kaldiio.load_scp("dump/fbank/train/feats.scp")[kept]
    audio = [d / w for u, w in read_table(d / "data/train/wav.scp").items() if u in ids]
    assert audio and all(p.is_file() for p in audio)
    source = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (d / "exp/ser_tiny").glob("*.pth")}

    # a preview changes nothing
    before = tree_hashes(d)
    proc = run(f"{RUN} --stage 9 --forget_list {forget} --dry_run true", cwd=d)
    assert "dry run: nothing was changed" in proc.stdout and "feature archives to rewrite: " in proc.stdout
    assert tree_hashes(d) == before

    proc = run(f"{RUN} --stage 9 --forget_list {forget}", cwd=d)
    assert "Audit record: exp/requests/forget_" in proc.stdout
    (tmp_path / "ids").write_text("".join(u + "\n" for u in ids))
    # nothing under data/, dump/, exp/ names them: checked by the ids, and by the record alone
    run(f". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --forget_list {tmp_path / 'ids'}", cwd=d)
    run(f". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request forget_{speaker}", cwd=d)
    assert not (d / forget).exists() and not any(p.exists() for p in audio)
    assert speaker not in read_table(d / "data/train/spk2utt")
    feats = {k: v for k, v in kaldiio.load_ark(str(next((d / "dump/fbank/train/data").glob("*.ark"))))}
    assert not set(ids) & set(feats)
    assert np.array_equal(kaldiio.load_scp("dump/fbank/train/feats.scp")[kept], kept_matrix)
    # the source model was only read
    assert source == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (d / "exp/ser_tiny").glob("*.pth")}

    record_file = d / f"exp/requests/forget_{speaker}.json"
    text = record_file.read_text()
    assert not any(u in text for u in ids)
    record = json.loads(text)
    assert record["num_utterances"] == len(ids) and record["num_speakers"] == 1
    assert len(record["utterance_id_hashes"]["hashes"]) == len(ids)
    assert record["models"]["unlearned"]["sha256"] == hashlib.sha256(
        (d / f"exp/unlearn_forget_{speaker}/unlearned.pth").read_bytes()).hexdigest()
    assert record["verification"]["result"] == "clean"
    assert "test_uar" in record["evaluation"]["vs"]["original"]
    rewritten = {f["path"] for f in record["purge"]["files"] if f["action"] == "rewritten"}
    assert "dump/fbank/train/feats.scp" in rewritten and "data/train/utt2spk" in rewritten
    assert any(p.endswith(".ark") for p in rewritten)
    assert record["purge"]["own_audio_deleted"]["files"] == len(audio)
    assert record["models_trained_on_them"] == ["exp/ser_tiny"]
    assert record["statistics_including_them"] == ["exp/ser_tiny"]  # the unlearned model's exclude them
    assert (d / "exp/requests/index.tsv").read_text().splitlines()[1].split("\t")[1] == f"forget_{speaker}"
    pack = d / f"exp/unlearn_forget_{speaker}/packed/unlearn_forget_{speaker}.zip"
    assert any(n.endswith(f"forget_{speaker}.json") for n in zipfile.ZipFile(pack).namelist())

    # once is enough
    proc = run(f"{RUN} --stage 9 --forget_list {forget}", cwd=d, check=False)
    assert proc.returncode != 0 and "was purged already" in proc.stderr


def test_purge_needs_an_evaluated_request(recipe):
    d = recipe
    run(f". ./path.sh && python -m espnet2_unlearn.bin.make_forget --num_utts 4 data/train data/f4", cwd=d)
    run(f"{RUN} --stage 5 --stop_stage 5 --forget_list data/f4 --unlearn_args '--max_steps 2 --allow_unreached true'", cwd=d)
    before = tree_hashes(d)
    proc = run(f"{RUN} --stage 9 --forget_list data/f4", cwd=d, check=False)
    assert proc.returncode != 0 and "eval/metrics.json does not exist: run stage 6 first" in proc.stderr
    assert tree_hashes(d) == before


def test_an_interrupted_purge_finishes_when_run_again(recipe, monkeypatch):
    d = recipe
    speaker = sorted(read_table(d / "data/train/spk2utt"))[1]
    forget, ids = serve(d, speaker)

    def interrupted(*args):  # stands for Ctrl-C after the archives were replaced
        raise KeyboardInterrupt

    monkeypatch.chdir(d)
    monkeypatch.setattr(purge, "filter_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        purge.purge_request(ids, f"forget_{speaker}", Layout.of(d), d / forget, d / f"exp/unlearn_forget_{speaker}", None)
    assert (d / f"exp/requests/.forget_{speaker}.purge.json").exists()
    monkeypatch.undo()
    run(f"{RUN} --stage 9 --forget_list {forget}", cwd=d)
    run(f". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request forget_{speaker}", cwd=d)
    assert not (d / f"exp/requests/.forget_{speaker}.purge.json").exists()
    # every remaining scp still reads, and holds none of them
    monkeypatch.chdir(d)
    for scp in (d / "dump/fbank").rglob("feats.scp"):
        loaded = kaldiio.load_scp(str(scp))
        assert not set(ids) & set(loaded) and all(v.ndim == 2 for v in loaded.values())


def test_two_requests_in_a_row_purging_between(recipe):
    d = recipe
    train_before = len(read_table(d / "data/train/utt2spk"))
    speaker = sorted(read_table(d / "data/train/spk2utt"))[2]
    forget1, ids1 = serve(d, speaker)
    run(f"{RUN} --stage 9 --forget_list {forget1}", cwd=d)
    # its utterances cannot be asked for again
    (d / "again").write_text(ids1[0] + "\n")
    proc = run(f"{RUN} --stage 5 --stop_stage 5 --ser_exp exp/unlearn_forget_{speaker} --forget_list again", cwd=d,
               check=False)
    assert f"utterance {ids1[0]} of the forget list was purged by request forget_{speaker}" in proc.stderr
    # the second request is served by the model that served the first
    run(". ./path.sh && python -m espnet2_unlearn.bin.make_forget --num_utts 6 --seed 1 data/train data/second", cwd=d)
    ids2 = sorted(read_table(d / "data/second/utt2spk"))
    proc = run(f"{RUN} --stage 5 --stop_stage 7 --ser_exp exp/unlearn_forget_{speaker} --forget_list data/second "
               "--baselines '' --unlearn_args '--max_steps 3 --allow_unreached true'", cwd=d)
    assert "Gold standard: retraining" in proc.stdout
    conf = yaml.safe_load((d / "exp/unlearn_second/config.yaml").read_text())
    served = conf["unlearn_conf"]["requests_served"]
    assert [e["request"] for e in served] == [f"forget_{speaker}", "second"]
    assert conf["unlearn_conf"]["source_model"] == f"exp/unlearn_forget_{speaker}/unlearned.pth"
    # the 'auto' target carries over with the reference figures
    report = json.loads((d / "exp/unlearn_second/forget_report.json").read_text())
    assert f"exp/unlearn_forget_{speaker}/reference_stats.json" in report["target"]["source"]
    # gold of the second request is retrained without both
    (gold,) = (d / "exp").glob(f"gold_unlearn_forget_{speaker}_*/train_report.json")
    assert json.loads(gold.read_text())["num_train_utts"] == train_before - len(ids1) - len(ids2)
    metrics = json.loads((d / "exp/unlearn_second/eval/metrics.json").read_text())
    assert {"original", "unlearned", "gold"} <= set(metrics["models"])
    # and it is purged in turn
    run(f"{RUN} --stage 9 --forget_list data/second", cwd=d)
    record = json.loads((d / "exp/requests/second.json").read_text())
    assert record["models_trained_on_them"] == ["exp/ser_tiny", f"exp/unlearn_forget_{speaker}"]
    assert record["statistics_including_them"] == ["exp/ser_tiny", f"exp/unlearn_forget_{speaker}"]
    for request in (f"forget_{speaker}", "second"):
        run(f". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request {request}", cwd=d)
    assert len((d / "exp/requests/index.tsv").read_text().splitlines()) == 3


def test_term_during_stage_5_leaves_nothing_behind(recipe):
    import os
    import signal
    import subprocess
    import time

    d = recipe
    run(". ./path.sh && python -m espnet2_unlearn.bin.make_forget --num_utts 4 data/train data/f4", cwd=d)
    # A run that cannot end by itself (a median loss it never reaches, many
    # steps; accuracy 0 on 4 utterances is reached in a few steps), stopped as
    # Slurm stops a job: TERM to every process of it.
    proc = subprocess.Popen(["bash", "-c", f"{RUN} --stage 5 --stop_stage 5 --forget_list data/f4 --unlearn_args "
                             "'--max_steps 100000 --forget_loss relabel --stop_metric loss --forget_target 1e9 "
                             "--keep_derived_data true'"],
                            cwd=d, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tmp = d / "exp/.unlearn_f4.tmp"
    for _ in range(600):
        if tmp.exists():
            break
        time.sleep(0.2)
    assert tmp.exists(), proc.communicate()[0]
    time.sleep(2)
    assert proc.poll() is None, proc.communicate()[0]
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    # The shells without a trap end at once; the job cleans up behind them, as
    # Slurm allows for (KillWait, 30 s by default, before it kills what is left).
    for _ in range(150):
        if not tmp.exists():
            break
        time.sleep(0.2)
    assert not tmp.exists() and not (d / "exp/unlearn_f4").exists()
    assert not list((d / "exp").glob(".forget_ids.*"))

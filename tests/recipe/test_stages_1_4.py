"""run.sh stages 1-4 for real on a tiny built-in corpus, then ESPnet's own
cls_inference on the trained model."""

import json
import shutil

import pytest

from helpers import TINY_DATA, make_recipe_dir, run
from espnet2_unlearn.data.kaldi_dir import read_table

TINY = TINY_DATA


@pytest.fixture(scope="module")
def trained(tiny_recipe):
    return tiny_recipe


def test_data_dirs_and_heldout(trained):
    d, _ = trained
    train = read_table(d / "data/train/utt2spk")
    heldout = read_table(d / "data/heldout/utt2spk")
    test = read_table(d / "data/test/utt2spk")
    assert len(train) == 6 * 24 - 24 and len(heldout) == 24
    assert not set(train) & set(heldout)
    assert set(heldout.values()) == set(train.values())  # heldout: the training speakers
    assert not set(test.values()) & set(train.values())


def test_features_lose_no_utterance(trained):
    d, _ = trained
    for dset in ("train", "valid", "test", "heldout"):
        feats = read_table(d / f"dump/fbank/{dset}/feats.scp")
        assert set(feats) == set(read_table(d / f"data/{dset}/wav.scp"))
        assert all(v.startswith(f"dump/fbank/{dset}/data/feats.") for v in feats.values())
    assert not list((d / "dump/fbank").glob(".*"))


def test_token_list_and_model_files(trained):
    d, proc = trained
    assert (d / "data/token_list").read_text().split() == ["angry", "happy", "neutral", "sad", "<unk>"]
    exp = d / "exp/ser_tiny"
    for name in ("config.yaml", "valid.acc.best.pth", "train.loss.ave.pth", "valid.acc.ave.pth", "train.log",
                 "reference_stats.json", "train_statistics.pth"):
        assert (exp / name).exists(), name
    stats = json.loads((exp / "reference_stats.json").read_text())
    assert set(stats["sets"]) == {"heldout", "valid"}
    for name, s in stats["sets"].items():
        # The accuracy of stage 4's own decoding of that set.
        ref = read_table(d / f"dump/fbank/{name}/text")
        hyp = read_table(exp / f"decode_train.loss.ave/{name}/prediction/text")
        assert s["accuracy"] == pytest.approx(sum(hyp[u] == ref[u] for u in ref) / len(ref))
        q = s["loss_quantiles"]
        assert list(q) == ["0.1", "0.25", "0.5", "0.75", "0.9"] and sorted(q.values()) == list(q.values())
    assert "Finished stages 1-4" in proc.stdout


def test_espnet_cls_inference_loads_the_model(trained):
    d, _ = trained
    exp = d / "exp/ser_tiny"
    run("python -m espnet2.bin.cls_inference --output_dir out "
        "--data_path_and_name_and_type dump/fbank/test/feats.scp,speech,kaldi_ark "
        f"--classification_train_config {exp}/config.yaml --classification_model_file {exp}/valid.acc.best.pth",
        cwd=d)
    predicted = read_table(d / "out/prediction/text")
    assert set(predicted) == set(read_table(d / "data/test/text"))
    assert set(predicted.values()) <= {"angry", "happy", "neutral", "sad"}


def test_stage_4_decodes_as_espnet_cls_inference_does(trained):
    # Stage 4's batched decoding (decode_sets) against ESPnet's own
    # one-utterance-at-a-time cls_inference, on the default model file.
    d, _ = trained
    exp = d / "exp/ser_tiny"
    run("python -m espnet2.bin.cls_inference --output_dir espnet_out --output_all_probabilities true "
        "--data_path_and_name_and_type dump/fbank/test/feats.scp,speech,kaldi_ark "
        f"--classification_train_config {exp}/config.yaml --classification_model_file {exp}/train.loss.ave.pth",
        cwd=d)
    ours = exp / "decode_train.loss.ave/test/prediction"
    theirs = d / "espnet_out/prediction"
    assert read_table(ours / "text") == read_table(theirs / "text")
    assert read_table(ours / "token") == read_table(theirs / "token")
    a, b = read_table(ours / "score"), read_table(theirs / "score")
    assert set(a) == set(b)
    for utt in a:
        assert [float(x) for x in a[utt].split()] == pytest.approx([float(x) for x in b[utt].split()], abs=1e-5)


def test_help_lists_the_options(trained):
    d, _ = trained
    out = run("./run.sh --help", cwd=d).stdout
    for opt in ("--stage", "--stop_stage", "--nj", "--ngpu", "--ser_config", "--ser_args", "--tag"):
        assert opt in out


# Bad input: each case starts from a copy of the prepared recipe dir.

@pytest.fixture
def prepared(trained, tmp_path):
    src, _ = trained
    d = make_recipe_dir(tmp_path / "recipe")
    shutil.rmtree(d / "conf")
    for name in ("conf", "data", "downloads"):
        shutil.copytree(src / name, d / name, symlinks=True)
    return d


def stage2_fails(d, *messages):
    proc = run(f"./run.sh --stage 2 --stop_stage 2 {TINY}", cwd=d, check=False)
    for m in messages:
        assert m in proc.stderr + proc.stdout, m
    assert not (d / "dump").exists() or not any((d / "dump/fbank").iterdir())
    return proc


def test_missing_wav(prepared):
    utt, wav = sorted(read_table(prepared / "data/train/wav.scp").items())[1]
    (prepared / wav).unlink()
    stage2_fails(prepared, f"utterance {utt}", "cannot read audio")


def test_clip_shorter_than_a_frame_keeps_the_job_logs(prepared):
    import soundfile

    utt, wav = sorted(read_table(prepared / "data/valid/wav.scp").items())[0]
    soundfile.write(prepared / wav, [0.0] * 399, 16000)
    proc = stage2_fails(prepared, f"compute_fbank: utterance {utt} (", "399 samples is shorter than one frame",
                        "job logs: exp/logs/fbank_valid/")
    logs = list((prepared / "exp/logs/fbank_valid").glob("fbank.*.log"))
    assert logs and any(f"utterance {utt}" in p.read_text() for p in logs), proc.stderr


def test_wav_with_another_sample_rate(prepared):
    import soundfile

    utt, wav = sorted(read_table(prepared / "data/test/wav.scp").items())[-1]
    audio, _ = soundfile.read(prepared / wav)
    soundfile.write(prepared / wav, audio[::2], 8000)
    stage2_fails(prepared, f"utterance {utt}", "8000 Hz, expected 16000 Hz")


def test_text_line_with_missing_field(prepared):
    text = prepared / "data/valid/text"
    lines = text.read_text().splitlines()
    lines[2] = lines[2].split()[0]
    text.write_text("\n".join(lines) + "\n")
    stage2_fails(prepared, "data/valid/text:3:")


def test_files_disagree_on_utterances(prepared):
    wav_scp = prepared / "data/train/wav.scp"
    lines = wav_scp.read_text().splitlines()
    wav_scp.write_text("\n".join(lines[:3] + lines[4:]) + "\n")
    missing = lines[3].split()[0]
    stage2_fails(prepared, f"utterance {missing} is in data/train/utt2spk but not in data/train/wav.scp")


def test_stages_out_of_order(prepared):
    proc = run(f"./run.sh --stage 3 --stop_stage 3 {TINY}", cwd=prepared, check=False)
    assert "dump/fbank/train/feats.scp does not exist: run stage 2 first" in proc.stderr
    proc = run(f"./run.sh --stage 4 --stop_stage 4 {TINY}", cwd=prepared, check=False)
    assert "does not exist: run stage 3 first" in proc.stderr
    assert not (prepared / "exp").exists()
    shutil.rmtree(prepared / "data")
    proc = run(f"./run.sh --stage 2 --stop_stage 2 {TINY}", cwd=prepared, check=False)
    assert "run stage 1 first" in proc.stderr


def test_unknown_option(prepared):
    proc = run("./run.sh --no_such_option 1", cwd=prepared, check=False)
    assert "unknown option --no_such_option" in proc.stderr


def test_stage_2_through_slurm(prepared, cluster):
    env, record = cluster
    env["cmd_backend"] = "slurm"
    run(f"./run.sh --stage 2 --stop_stage 2 {TINY}", cwd=prepared, env=env)
    submissions = record.read_text().splitlines()
    assert len(submissions) == 4 and all('"--array=1-2"' in s for s in submissions)
    for dset in ("train", "valid", "test", "heldout"):
        feats = read_table(prepared / f"dump/fbank/{dset}/feats.scp")
        assert set(feats) == set(read_table(prepared / f"data/{dset}/wav.scp"))


def test_a_forget_target_reference_of_fewer_than_20_utterances_is_refused(trained, tmp_path):
    from helpers import copy_recipe

    src, _ = trained
    d = copy_recipe(src, tmp_path / "small", names=("conf", "data", "dump"))
    shutil.copytree(src / "exp/ser_stats", d / "exp/ser_stats")
    heldout = d / "dump/fbank/heldout"
    keep = sorted(read_table(heldout / "utt2spk"))[:19]
    for name in ("feats.scp", "text", "utt2spk"):
        table = read_table(heldout / name)
        (heldout / name).write_text("".join(f"{u} {table[u]}\n" for u in keep))
    proc = run(f"./run.sh --stage 4 --stop_stage 4 {TINY} --tag tiny", cwd=d, check=False)
    assert proc.returncode != 0
    assert "dump/fbank/heldout has 19 utterances, fewer than the 20" in proc.stderr
    assert "raise --heldout_per_spk (now 4)" in proc.stderr
    assert not (d / "exp/ser_tiny").exists()  # refused before training


def test_stage_4_with_skip_train_keeps_the_model_and_computes_what_lies_beside_it(trained, tmp_path):
    """A model trained elsewhere (or kept from an earlier run): stage 4
    trains nothing, and decodes and writes the statistics beside it."""
    from helpers import copy_recipe

    src, _ = trained
    d = copy_recipe(src, tmp_path / "kept")
    exp = d / "exp/ser_tiny"
    model = (exp / "train.loss.ave.pth").read_bytes()
    train_log = (exp / "train.log").read_text()
    derived = ["reference_stats.json", "train_statistics.pth"]
    for name in derived:
        (exp / name).unlink()
    shutil.rmtree(exp / "decode_train.loss.ave")
    proc = run(f"./run.sh --stage 4 --stop_stage 4 {TINY} --tag tiny --skip_train true", cwd=d)
    assert "--skip_train true: exp/ser_tiny/train.loss.ave.pth is kept as it is" in proc.stdout + proc.stderr
    assert (exp / "train.loss.ave.pth").read_bytes() == model and (exp / "train.log").read_text() == train_log
    for name in derived:
        assert (exp / name).is_file(), name
    assert json.loads((exp / "reference_stats.json").read_text()) == json.loads(
        (src / "exp/ser_tiny/reference_stats.json").read_text())
    proc = run(f"./run.sh --stage 4 --stop_stage 4 {TINY} --tag tiny --skip_train yes", cwd=d, check=False)
    assert "option --skip_train is boolean: expected true or false, got 'yes'" in proc.stderr

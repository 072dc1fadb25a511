"""unlearn.sh on models as ESPnet's cls1 template makes them
(bench/cls1_recipe.sh): raw waveforms through the default front-end,
global_mvn or utterance_mvn, or an SSL front-end, <blank> and <unk> in the
token list, valid.acc.best.pth, with the default conf/unlearn.yaml."""

import json
import os
import shutil
from pathlib import Path

import pytest
import soundfile
import torch

import yaml

from helpers import ROOT, TINY_CONFIG, run
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.model_file import predicted_tokens

EXP = "exp/cls_train_cls1"


# ESPnet's s3prl front-end needs this with torchaudio >= 2.9 (tools/s3prl_compat/s3prl_compat.py).
S3PRL_COMPAT = ROOT / "tools/s3prl_compat"


def cls1_config(**front_end) -> str:
    """The tiny model of the other recipe tests, reading waveforms through
    the default front-end (40 mel bands) unless told another, kept by
    validation accuracy."""
    conf = yaml.safe_load(TINY_CONFIG)
    conf.update(max_epoch=20, best_model_criterion=[["valid", "acc", "max"]], keep_nbest_models=1,
                frontend="default", frontend_conf={"n_fft": 512, "hop_length": 160, "n_mels": 40})
    conf["encoder_conf"]["input_layer"] = "conv2d"
    conf.update(front_end)
    return yaml.safe_dump(conf, sort_keys=False)


def ssl_env() -> dict:
    return {"PYTHONPATH": ":".join(p for p in (str(S3PRL_COMPAT), os.environ.get("PYTHONPATH")) if p)}


def tiny_wav2vec2(path: Path) -> Path:
    """A small randomly initialised wav2vec 2.0 saved as Hugging Face saves
    pretrained weights: what a user's local WavLM/HuBERT directory is to
    ESPnet's s3prl front-end (upstream hf_wav2vec2_custom, path_or_url)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
        # s3prl counts the hidden states once, in eval mode: no layer may drop out in training
        layerdrop=0.0, apply_spec_augment=False)
    transformers.Wav2Vec2Model(config).save_pretrained(path)
    transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                          return_attention_mask=True).save_pretrained(path)
    return path


def cls1_recipe(tiny_recipe, base: Path, normalize: str, config: str = None, env: dict = None) -> Path:
    """A cls1-style recipe dir: its own dump/raw, data/token_list.txt and
    exp/cls_train_cls1, with the project's utils/ and conf/ as a recipe that
    calls unlearn.sh would have them."""
    d, _ = tiny_recipe
    (base / "train_cls1.yaml").write_text(config or cls1_config())
    out = base / "cls1"
    run(f"bash {ROOT}/bench/cls1_recipe.sh {d}/data {out} {normalize} {base}/train_cls1.yaml", env=env)
    for name in ("utils", "path.sh", "cmd.sh"):
        (out / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "conf", out / "conf")
    # once after training, as docs/recipes.md "Another ESPnet recipe" says: the default projects its steps
    run(f"python -m espnet2_unlearn.bin.train_statistics --model_dir {EXP} --model_file valid.acc.best.pth "
        "--data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound "
        "--data_path_and_name_and_type dump/raw/train/text,label,text", cwd=out, env=env)
    return out


@pytest.fixture(scope="module")
def cls1(tiny_recipe, tmp_path_factory):
    return cls1_recipe(tiny_recipe, tmp_path_factory.mktemp("cls1_global"), "global_mvn")


def unlearn_sh(recipe, forget, *extra, check=True, env=None):
    return run(f"{ROOT}/unlearn.sh --cls_exp {EXP} --train_dir dump/raw/train --speech_file wav.scp "
               f"--forget_list {forget} " + " ".join(extra), cwd=recipe, check=check, env=env)


def forget_ids(recipe, name="forget10", n=10):
    """Utterances of the first training speaker (others of it stay)."""
    ids = sorted(read_table(recipe / "dump/raw/train/text"))[:n]
    path = recipe / name
    path.write_text("".join(u + "\n" for u in ids))
    return path, ids


def predictions(recipe, model_dir: Path, model_file: str, utts_by_set, monkeypatch):
    """Predicted tokens of the whole model (front-end included) on each set's waveforms."""
    monkeypatch.chdir(recipe)  # the config names its statistics file relative to the recipe
    out = {}
    for name, (scp, utts) in utts_by_set.items():
        wavs = read_table(recipe / scp)
        out[name] = predicted_tokens(model_dir, model_file,
                                     [torch.from_numpy(soundfile.read(wavs[u], dtype="float32")[0]) for u in utts])
    return out


def check_unlearned(recipe, out: Path, ids, monkeypatch, front_end="DefaultFrontend"):
    report = json.loads((out / "forget_report.json").read_text())
    assert report["front_end"] == front_end and report["source_model"].endswith("valid.acc.best.pth")
    assert report["target"]["reached"] and report["forget_accuracy_after"] < report["forget_accuracy_before"]
    adv = report["adversarial"]
    assert adv["num_examples"] > 0 and adv["max_distance_in_clip_units"] <= 0.2 * (1 + 1e-4)  # adv_clip, past the front-end
    # the model file holds every key of the source (the front-end's too) and loads strictly
    source = torch.load(recipe / EXP / "valid.acc.best.pth")
    assert list(torch.load(out / "unlearned.pth")) == list(source)
    train = read_table(recipe / "dump/raw/train/text")
    sets = {"forget": ("dump/raw/train/wav.scp", ids),
            "retain": ("dump/raw/train/wav.scp", [u for u in train if u not in ids]),
            "test": ("dump/raw/test/wav.scp", list(read_table(recipe / "dump/raw/test/text")))}
    before = predictions(recipe, recipe / EXP, "valid.acc.best.pth", sets, monkeypatch)
    after = predictions(recipe, out, "unlearned.pth", sets, monkeypatch)
    for name in sets:
        assert not {"<blank>", "<unk>"} & set(after[name]), (name, after[name])
    print(summary(recipe, out, report, sets, before, after))
    return report, before, after


def summary(recipe, out, report, sets, before, after) -> str:
    """The figures of a run, for the closing note (pytest -s prints them)."""
    truth = {**read_table(recipe / "dump/raw/train/text"), **read_table(recipe / "dump/raw/test/text")}

    def acc(preds, name):
        return sum(p == truth[u] for p, u in zip(preds[name], sets[name][1])) / len(sets[name][1])

    special = {m: sum(p in ("<blank>", "<unk>") for name in sets for p in preds[name])
               for m, preds in (("before", before), ("after", after))}
    wall = json.loads((out / "process_time.json").read_text())["process_time_s"]
    return (f"{out}: front-end {report['front_end']}, forget acc {acc(before, 'forget'):.3f} -> "
            f"{acc(after, 'forget'):.3f}, retain acc {acc(before, 'retain'):.3f} -> {acc(after, 'retain'):.3f}, "
            f"test acc {acc(before, 'test'):.3f} -> {acc(after, 'test'):.3f}, {report['steps']} steps, "
            f"stage 5 {wall:.1f} s, adversarial max distance {report['adversarial']['max_distance_in_clip_units']} "
            f"clip units ({report['adversarial']['num_examples']} of {report['adversarial']['num_examples_made']} "
            f"trained on), <blank>/<unk> predictions {special['before']} -> {special['after']}")


def test_a_cls1_model_with_a_front_end_is_unlearned_past_it_with_the_default_config(cls1, monkeypatch):
    forget, ids = forget_ids(cls1)
    tokens = (cls1 / "data/token_list.txt").read_text().split()
    assert tokens[-2:] == ["<blank>", "<unk>"]  # as cls.sh's tokenize_text writes it
    # the speech type is checked before any job: a wav.scp is no Kaldi archive
    message = unlearn_sh(cls1, forget, check=False).stderr
    assert "is not a Kaldi archive offset" in message and "--speech_type sound" in message
    assert not (cls1 / "exp/unlearn_forget10").exists()
    # a training checkpoint is no model file
    message = unlearn_sh(cls1, forget, "--speech_type sound --inference_model checkpoint.pth", check=False).stderr
    assert "training checkpoint" in message and not (cls1 / "exp/unlearn_forget10").exists()

    # Projected steps alone cannot move these forget utterances (they lie inside the remaining data's span):
    # a run that may not relax the projection says so, publishes nothing and names the option.
    proc = unlearn_sh(cls1, forget, "--speech_type sound --unlearn_args '--step_relax_patience 0'", check=False)
    assert "Model file: exp/cls_train_cls1/valid.acc.best.pth" in proc.stdout  # no train.loss.ave.pth in cls1
    assert "the target was not reached" in proc.stderr and "--step_relax_patience 20" in proc.stderr
    assert not (cls1 / "exp/unlearn_forget10").exists() and (cls1 / "exp/unlearn_forget10.unreached").is_dir()
    # The default sees its steps move no prediction, lets the projection protect less, and reaches the target.
    proc = unlearn_sh(cls1, forget, "--speech_type sound")
    out = cls1 / "exp/unlearn_forget10"
    report, before, after = check_unlearned(cls1, out, ids, monkeypatch)
    assert report["projection_relaxed_at"]
    assert report["target"]["source"].startswith("best validation accuracy in exp/cls_train_cls1/train.log")
    log = (out / "unlearn.log").read_text()
    assert "classes: ['angry', 'happy', 'neutral', 'sad']" in log

    # A second request, served from the unlearned model (no training log of its own), stops at the same target.
    second, second_ids = forget_ids(cls1, "forget_next", 14)
    second.write_text("".join(u + "\n" for u in second_ids[10:]))
    run(f"mkdir -p exp/from_first && cp {out}/* exp/from_first/", cwd=cls1)
    unlearn_sh(cls1, second, "--speech_type sound --cls_exp exp/from_first --inference_model unlearned.pth")
    again = json.loads((cls1 / "exp/unlearn_forget_next/forget_report.json").read_text())
    assert again["target"]["value"] == report["target"]["value"] and "carried in" in again["target"]["source"]


def test_a_cls1_model_with_an_ssl_front_end(tiny_recipe, tmp_path, monkeypatch):
    """ESPnet's s3prl front-end over local weights (frozen while the model
    trained on top of it, as cls1 recipes with SSL features do), with
    utterance_mvn: the per-utterance normaliser past a front-end (the
    default front-end with it took a test of its own, 70 s, and went the
    same way through unlearning)."""
    pytest.importorskip("s3prl")
    weights = tiny_wav2vec2(tmp_path / "wav2vec2_tiny")
    config = cls1_config(frontend="s3prl", frontend_conf={
        "frontend_conf": {"upstream": "hf_wav2vec2_custom", "path_or_url": str(weights)},
        "multilayer_feature": True}, freeze_param=["frontend.upstream"])
    recipe = cls1_recipe(tiny_recipe, tmp_path, "utterance_mvn", config, env=ssl_env())
    forget, ids = forget_ids(recipe)
    unlearn_sh(recipe, forget, "--speech_type sound", env=ssl_env())
    monkeypatch.syspath_prepend(str(S3PRL_COMPAT))
    import s3prl_compat  # noqa: F401  (the test process loads the model too)
    report, before, after = check_unlearned(recipe, recipe / "exp/unlearn_forget10", ids, monkeypatch, "S3prlFrontend")
    # the front-end (the SSL model's weights) is saved back as it was
    source, unlearned = torch.load(recipe / EXP / "valid.acc.best.pth"), torch.load(recipe / "exp/unlearn_forget10/unlearned.pth")
    assert all(torch.equal(source[k], unlearned[k]) for k in source if k.startswith("frontend."))

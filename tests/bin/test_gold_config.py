import yaml

from helpers import run

SOURCE = {
    "config": "conf/train_ser.yaml", "output_dir": "exp/ser_x", "seed": 7, "max_epoch": 40,
    "keep_nbest_models": 5, "normalize": "global_mvn", "normalize_conf": {"stats_file": "exp/ser_stats/x.npz"},
    "train_data_path_and_name_and_type": [["dump/fbank/train/feats.scp", "speech", "kaldi_ark"]],
    "valid_data_path_and_name_and_type": [["dump/fbank/valid/feats.scp", "speech", "kaldi_ark"]],
    "train_shape_file": ["exp/ser_stats/train/speech_shape"], "valid_shape_file": ["v"],
    "init_param": ["some.pth"], "ngpu": 0, "encoder": "transformer", "encoder_conf": {"output_size": 64},
}


def test_keeps_how_the_model_was_trained_and_drops_its_data(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(SOURCE))
    proc = run(f"python -m espnet2_unlearn.bin.gold_config {tmp_path}/config.yaml {tmp_path}/gold/gold.yaml")
    assert proc.stdout.strip() == "global_mvn"
    gold = yaml.safe_load((tmp_path / "gold/gold.yaml").read_text())
    assert gold == {"seed": 7, "max_epoch": 40, "keep_nbest_models": 5, "normalize": "global_mvn",
                    "encoder": "transformer", "encoder_conf": {"output_size": 64}}


def test_an_unlearned_model_is_retrained_as_its_trained_ancestor(tmp_path):
    (tmp_path / "u.yaml").write_text(yaml.safe_dump({**SOURCE, "unlearn_conf": {"lr": 1}}))
    run(f"python -m espnet2_unlearn.bin.gold_config {tmp_path}/u.yaml {tmp_path}/u_gold.yaml")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(SOURCE))
    run(f"python -m espnet2_unlearn.bin.gold_config {tmp_path}/config.yaml {tmp_path}/gold.yaml")
    assert (tmp_path / "u_gold.yaml").read_text() == (tmp_path / "gold.yaml").read_text()


def test_refuses_a_non_config(tmp_path):
    (tmp_path / "n.yaml").write_text("- just a list\n")
    proc = run(f"python -m espnet2_unlearn.bin.gold_config {tmp_path}/n.yaml {tmp_path}/g.yaml", check=False)
    assert "is not the config.yaml of an ESPnet training" in proc.stderr
    assert not (tmp_path / "g.yaml").exists()

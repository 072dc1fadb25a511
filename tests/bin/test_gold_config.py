import pytest
import yaml

from espnet2_unlearn.bin.gold_config import main as gold_config

SOURCE = {
    "config": "conf/train_ser.yaml", "output_dir": "exp/ser_x", "seed": 7, "max_epoch": 40,
    "keep_nbest_models": 5, "normalize": "global_mvn", "normalize_conf": {"stats_file": "exp/ser_stats/x.npz"},
    "train_data_path_and_name_and_type": [["dump/fbank/train/feats.scp", "speech", "kaldi_ark"]],
    "valid_data_path_and_name_and_type": [["dump/fbank/valid/feats.scp", "speech", "kaldi_ark"]],
    "train_shape_file": ["exp/ser_stats/train/speech_shape"], "valid_shape_file": ["v"],
    "init_param": ["some.pth"], "ngpu": 0, "encoder": "transformer", "encoder_conf": {"output_size": 64},
}


# In-process (ESPnet's parser is imported once for the suite); the shell's use is tested by stage 7.
def test_keeps_how_the_model_was_trained_and_drops_its_data(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(SOURCE))
    gold_config([f"{tmp_path}/config.yaml", f"{tmp_path}/gold/gold.yaml"])
    assert capsys.readouterr().out.strip() == "global_mvn"
    gold = yaml.safe_load((tmp_path / "gold/gold.yaml").read_text())
    assert gold == {"seed": 7, "max_epoch": 40, "keep_nbest_models": 5, "normalize": "global_mvn",
                    "encoder": "transformer", "encoder_conf": {"output_size": 64}}


def test_an_unlearned_model_is_retrained_as_its_trained_ancestor(tmp_path):
    (tmp_path / "u.yaml").write_text(yaml.safe_dump({**SOURCE, "unlearn_conf": {"lr": 1}}))
    gold_config([f"{tmp_path}/u.yaml", f"{tmp_path}/u_gold.yaml"])
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(SOURCE))
    gold_config([f"{tmp_path}/config.yaml", f"{tmp_path}/gold.yaml"])
    assert (tmp_path / "u_gold.yaml").read_text() == (tmp_path / "gold.yaml").read_text()


def test_refuses_a_non_config(tmp_path):
    (tmp_path / "n.yaml").write_text("- just a list\n")
    with pytest.raises(SystemExit) as e:
        gold_config([f"{tmp_path}/n.yaml", f"{tmp_path}/g.yaml"])
    assert "is not the config.yaml of an ESPnet training" in str(e.value)
    assert not (tmp_path / "g.yaml").exists()

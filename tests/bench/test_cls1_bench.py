"""bench/cls1.py: the cls1-style model's config is the recipe's model read
through ESPnet's default front-end, and a request without its forget list
is refused before any training."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import cls1  # noqa: E402

from espnet2_unlearn.espnet_imports import CLSTask  # noqa: E402


def test_the_config_is_the_recipes_model_behind_a_front_end(tmp_path):
    conf = yaml.safe_load(cls1.cls1_config())
    recipe = yaml.safe_load((ROOT / "conf/train_ser.yaml").read_text())
    assert conf["frontend"] == "default" and conf["best_model_criterion"] == [["valid", "acc", "max"]]
    assert {k: v for k, v in conf["encoder_conf"].items() if k != "input_layer"} == {
        k: v for k, v in recipe["encoder_conf"].items() if k != "input_layer"}
    assert conf["max_epoch"] == recipe["max_epoch"] and conf["optim_conf"] == recipe["optim_conf"]
    # ESPnet's own parser takes it as a config file
    path = tmp_path / "train_cls1.yaml"
    path.write_text(cls1.cls1_config())
    args = CLSTask.get_parser().parse_args(["--config", str(path), "--output_dir", str(tmp_path / "x")])
    assert args.frontend == "default" and args.frontend_conf["n_mels"] == 80


def test_a_missing_forget_list_is_refused_before_any_training(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "bench/cls1.py"), "--sets", "n10_s9", "--workdir",
                           str(tmp_path / "w")], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0 and "data/bench/forget_n10_s9" in proc.stderr and "compare.py" in proc.stderr
    assert not (tmp_path / "w").exists()

"""Stage 9 purges and verifies the tree ser.sh was given (--expdir,
--dumpdir), not exp/ and dump/."""

import json
import subprocess

from helpers import TINY_DATA, copy_recipe, run
from espnet2_unlearn.data.kaldi_dir import read_table

RUN = f"./run.sh {TINY_DATA} --tag tiny --expdir x_exp --dumpdir x_dump"


def moved_recipe(tiny_recipe, path):
    """The tiny recipe as if it had been run with --expdir x_exp --dumpdir x_dump."""
    d = copy_recipe(tiny_recipe[0], path, ("conf", "data", "dump", "exp", "downloads"))
    (d / "exp").rename(d / "x_exp")
    (d / "dump").rename(d / "x_dump")
    texts = [p for r in ("data", "x_dump", "x_exp") for p in (d / r).rglob("*")
             if p.is_file() and p.suffix in ("", ".scp", ".yaml", ".json", ".txt", ".log")]
    for p in texts:
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = text.replace("dump/", "x_dump/").replace("exp/", "x_exp/")
        if new != text:
            p.write_text(new, encoding="utf-8")
    return d


def test_stage_9_with_other_expdir_and_dumpdir(tiny_recipe, tmp_path):
    d = moved_recipe(tiny_recipe, tmp_path / "recipe")
    speaker = sorted(read_table(d / "data/train/spk2utt"))[0]
    run(f". ./path.sh && python -m espnet2_unlearn.bin.make_forget --speakers {speaker} data/train data/forget", cwd=d)
    ids = sorted(read_table(d / "data/forget/utt2spk"))
    run(f"{RUN} --stage 5 --stop_stage 6 --forget_list data/forget "
        "--unlearn_args '--max_steps 2 --allow_unreached true'", cwd=d)
    assert not (d / "exp").exists() and not (d / "dump").exists()

    # what cannot be rewritten under the given expdir stops the purge before any change
    (d / "x_exp/note.json").write_text(json.dumps({"kept": ids[0]}))
    proc = run(f"{RUN} --stage 9 --forget_list data/forget", cwd=d, check=False)
    assert "x_exp/note.json" in proc.stderr and "nothing was changed" in proc.stderr
    (d / "x_exp/note.json").unlink()

    proc = run(f"{RUN} --stage 9 --forget_list data/forget", cwd=d)
    assert "Audit record: x_exp/requests/forget.json" in proc.stdout
    record = json.loads((d / "x_exp/requests/forget.json").read_text())
    paths = {f["path"] for f in record["purge"]["files"]}
    assert "x_dump/fbank/train/feats.scp" in paths and record["verification"]["roots"] == ["data", "x_dump", "x_exp"]
    assert "--expdir x_exp" in record["verification"]["command"]
    verify = f". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request forget --dumpdir x_dump --expdir x_exp"
    run(verify, cwd=d)
    # a forgotten id left under the real expdir makes the verification fail
    (d / "x_exp/leftover.txt").write_text(f"{ids[0]} was here\n")
    proc = run(verify, cwd=d, check=False)
    assert proc.returncode == 1 and "x_exp/leftover.txt" in proc.stdout
    # and verify_purge without the roots does not look at exp/ and call it clean
    proc = subprocess.run(["bash", "-c", ". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request forget"],
                          cwd=d, capture_output=True, text=True)
    assert proc.returncode != 0 and "does not exist" in proc.stderr

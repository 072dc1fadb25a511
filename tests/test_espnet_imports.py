"""Start-up: the stage-5, decoding and purge entry points import ESPnet's
task without the text front-ends a classification model never uses, and
an SSL front-end's packages still import afterwards."""

import subprocess
import sys

HEAVY = ("g2p_en.g2p", "inflect", "nltk", "tacotron_cleaner.numbers", "transformers", "s3prl")


ENTRY_POINTS = ("espnet2_unlearn.bin.unlearn_train", "espnet2_unlearn.bin.decode_sets", "espnet2_unlearn.bin.purge",
                "espnet2_unlearn.model_file")


def test_the_entry_points_do_not_import_the_text_front_ends():
    # one process for all (what none of them imports, their union does not either): start-up is what costs here
    code = (f"import sys, espnet2_unlearn.espnet_imports, {', '.join(ENTRY_POINTS)}; "
            f"print('imported:', *(m for m in {HEAVY!r} if sys.modules.get(m) is not None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "imported:"  # (ESPnet prints a line of its own about flash attention)


def test_what_was_deferred_or_hidden_still_works_when_asked_for():
    code = ("import espnet2_unlearn.espnet_imports\n"
            "from espnet2.text.cleaner import TextCleaner\n"
            "print('cleaned:', TextCleaner(['tacotron'])('I have 3 dogs'))\n"
            "import typeguard\n"
            "print('typeguard restored:', typeguard.typechecked is not espnet2_unlearn.espnet_imports.unchecked)\n"
            "import importlib.util\n"
            "print('transformers:', importlib.util.find_spec('transformers') is None "
            "or bool(__import__('transformers').__version__))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "cleaned: I HAVE THREE DOGS" in out and "transformers: True" in out and "typeguard restored: True" in out


def test_a_decoding_job_loads_the_model_without_them(tmp_path):
    """decode_sets imports ESPnet's inference class only once it has a model
    to load: that import must be the lean one too."""
    from small_recipe import EXP, make_small_recipe

    d = make_small_recipe(tmp_path / "recipe")
    code = ("import sys\n"
            "from espnet2_unlearn.bin import decode_sets\n"
            f"decode_sets.main(['--model_dir', '{EXP}', '--model_file', 'train.loss.ave.pth', "
            "'--output_dir', 'out', 'train=dump/fbank/train'])\n"
            f"print('imported:', *(m for m in {HEAVY!r} if sys.modules.get(m) is not None))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=d).stdout
    assert out.splitlines()[-1] == "imported:"
    assert (d / "out/train/prediction/text").read_text().count("\n") == 36

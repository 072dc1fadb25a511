from helpers import ROOT, run

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
help_message="Usage: demo [--foo-bar V] [--flag true|false]"
foo_bar=default
flag=false
empty=
. {root}/utils/parse_options.sh
echo "foo_bar=${{foo_bar}} flag=${{flag}} empty=${{empty}} rest=$*"
"""


def make_script(tmp_path):
    script = tmp_path / "demo.sh"
    script.write_text(SCRIPT.format(root=ROOT))
    script.chmod(0o755)
    return script


def test_sets_variables_and_leaves_positional_args(tmp_path):
    script = make_script(tmp_path)
    out = run([str(script), "--foo-bar", "x y", "--flag", "true", "--empty=z", "a", "b"]).stdout
    assert out.strip() == "foo_bar=x y flag=true empty=z rest=a b"


def test_underscore_spelling_and_double_dash(tmp_path):
    script = make_script(tmp_path)
    out = run([str(script), "--foo_bar", "1", "--", "--flag"]).stdout
    assert out.strip() == "foo_bar=1 flag=false empty= rest=--flag"


def test_unknown_option_is_an_error(tmp_path):
    script = make_script(tmp_path)
    proc = run([str(script), "--nope", "1"], check=False)
    assert "unknown option --nope" in proc.stderr


def test_boolean_needs_true_or_false(tmp_path):
    script = make_script(tmp_path)
    proc = run([str(script), "--flag", "yes"], check=False)
    assert "boolean" in proc.stderr and "'yes'" in proc.stderr


def test_missing_value_is_an_error(tmp_path):
    script = make_script(tmp_path)
    proc = run([str(script), "--foo-bar"], check=False)
    assert "needs a value" in proc.stderr


def test_help_prints_help_message(tmp_path):
    script = make_script(tmp_path)
    proc = run([str(script), "--help"])
    assert proc.stdout.startswith("Usage: demo")


def test_config_is_read_first_and_command_line_wins(tmp_path):
    script = make_script(tmp_path)
    conf = tmp_path / "opts.conf"
    conf.write_text("foo_bar=from_config\nflag=true\n")
    out = run([str(script), "--foo-bar", "cli", "--config", str(conf)]).stdout
    assert out.strip() == "foo_bar=cli flag=true empty= rest="


def test_missing_config_file_is_an_error(tmp_path):
    script = make_script(tmp_path)
    proc = run([str(script), "--config", str(tmp_path / "absent.conf")], check=False)
    assert "absent.conf" in proc.stderr

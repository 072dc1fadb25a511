"""Fixtures of the test suite; what they use lives in helpers.py."""

import os

import pytest

from helpers import FAKE_SBATCH, TINY_CONFIG, TINY_DATA, make_recipe_dir, run


def pytest_collection_modifyitems(items):
    # Tests that train through the recipe (the tiny_recipe fixture, directly
    # or through another fixture) take minutes: marked slow, so that
    # `pytest -m "not slow"` runs the others alone.
    for item in items:
        if "tiny_recipe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
        if "/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def recipe_dir(tmp_path):
    return make_recipe_dir(tmp_path / "recipe")


@pytest.fixture
def cluster(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sbatch = bindir / "sbatch"
    sbatch.write_text(FAKE_SBATCH)
    sbatch.chmod(0o755)
    record = tmp_path / "sbatch_calls.jsonl"
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_SBATCH_RECORD": str(record)}
    return env, record


@pytest.fixture(scope="session")
def tiny_recipe(tmp_path_factory):
    """run.sh stages 1-4 on the tiny corpus; returns (recipe dir, output).
    Tests must not change it: copy what they modify."""
    d = make_recipe_dir(tmp_path_factory.mktemp("tiny") / "recipe")
    (d / "conf/train_tiny.yaml").write_text(TINY_CONFIG)
    proc = run(f"./run.sh --stop_stage 4 {TINY_DATA} --ser_config conf/train_tiny.yaml --tag tiny", cwd=d)
    return d, proc

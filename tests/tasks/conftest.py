import pytest

from small_recipe import make_small_recipe


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """The small untrained recipe (tests/small_recipe.py), shared: tests must not change it."""
    return make_small_recipe(tmp_path_factory.mktemp("small") / "recipe")

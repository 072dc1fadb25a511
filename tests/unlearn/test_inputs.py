import re

import pytest

from espnet2_unlearn.unlearn.inputs import UnlearnError, check_numbers
from espnet2_unlearn.unlearn.options import UnlearnOptions

def args(**kw):
    return UnlearnOptions(**{"optim_conf": {"lr": 1e-4}, **kw})


def test_defaults_and_switched_off_terms_pass():
    check_numbers(args())
    check_numbers(args(adv_num=0, adv_weight=0, elastic_weight=0.0))


@pytest.mark.parametrize("name,value,says", [
    ("adv_clip", 0, "--adv_clip must be greater than 0, got 0"),
    ("adv_clip", -0.5, "--adv_clip must be greater than 0"),
    ("adv_clip", "abc", "--adv_clip must be a number, got 'abc'"),
    ("adv_clip", float("nan"), "--adv_clip must be a number"),
    ("adv_step_size", 0.0, "--adv_step_size must be greater than 0"),
    ("adv_num", -1, "--adv_num must be at least 0"),
    ("adv_num", 1.5, "--adv_num must be an integer"),
    ("adv_steps", 0, "--adv_steps must be at least 1"),
    ("adv_weight", -1.0, "--adv_weight must be at least 0"),
    ("elastic_weight", float("inf"), "--elastic_weight must be a number"),
    ("elastic_weight", True, "--elastic_weight must be a number"),
    ("max_steps", 0, "--max_steps must be at least 1"),
    ("batch_size", 0, "--batch_size must be at least 1"),
    ("projection_energy", 0.0, "--projection_energy must be greater than 0, got 0.0"),
    ("projection_energy", 1.01, "--projection_energy must be at most 1, got 1.01"),
    ("projection_energy", "high", "--projection_energy must be a number, got 'high'"),
    ("step_growth", 0.5, "--step_growth must be at least 1, got 0.5"),
    ("step_patience", 0, "--step_patience must be at least 1"),
    ("step_patience", 2.5, "--step_patience must be an integer"),
    ("optim_conf", {"lr": 0}, "--optim_conf lr must be greater than 0"),
    ("optim_conf", {"lr": "fast"}, "--optim_conf lr must be a number, got 'fast'"),
    ("optim_conf", {"lr": "3e-5"}, "--optim_conf lr must be a number, got '3e-5' (YAML reads it as text: write it "
     "with a decimal point, e.g. 3.0e-05)"),
])
def test_bad_numbers_are_refused_by_name(name, value, says):
    with pytest.raises(UnlearnError, match=re.escape(says)):
        check_numbers(args(**{name: value}))

# Applied by Python at start-up when this directory is on PYTHONPATH.
import s3prl_compat  # noqa: F401

# Environment of every recipe step and job: the project's virtual
# environment (if there is one) and the Kaldi-style scripts in utils/.
MAIN_ROOT=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
export MAIN_ROOT
if [ -z "${ESPNET_UNLEARN_NO_VENV:-}" ] && [ -f "${MAIN_ROOT}/.venv/bin/activate" ]; then
  . "${MAIN_ROOT}/.venv/bin/activate"
fi
export PATH="${MAIN_ROOT}/utils:${PATH}"
export PYTHONIOENCODING=UTF-8

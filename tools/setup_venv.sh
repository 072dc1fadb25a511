#!/usr/bin/env bash
# Creates .venv at the top of the project and installs the package with its
# pinned dependencies and test extras.  Does nothing when it is already there.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
venv="${root}/.venv"
python=${PYTHON:-python3.11}
command -v "${python}" >/dev/null 2>&1 || python=python3
if [ -f "${venv}/.installed" ]; then
  exit 0
fi
echo "$(date '+%F %T') setting up ${venv} (first run only; a few minutes)" >&2
"${python}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --upgrade "pip<25"
"${venv}/bin/python" -m pip install --quiet -e "${root}[test]"
touch "${venv}/.installed"
echo "$(date '+%F %T') ${venv} is ready" >&2

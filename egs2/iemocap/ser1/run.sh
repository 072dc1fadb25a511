#!/usr/bin/env bash
# IEMOCAP, 4 classes (5 sessions, 10 actors): the corpus is read from ${IEMOCAP} (db.sh); see README.md.
# All stages live in ser.sh (sets, configs and features at its defaults);
# only what differs for this corpus is set here.
set -euo pipefail

./ser.sh --heldout_per_spk 8 "$@"

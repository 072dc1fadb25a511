#!/usr/bin/env bash
# RAVDESS speech (24 actors, 8 emotions): the corpus is read from ${RAVDESS} (db.sh); see README.md.
# All stages live in ser.sh (sets, configs and features at its defaults);
# only what differs for this corpus is set here.
set -euo pipefail

./ser.sh --heldout_per_spk 8 "$@"

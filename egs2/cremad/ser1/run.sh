#!/usr/bin/env bash
# CREMA-D (91 actors, 6 emotions): the corpus is read from ${CREMAD} (db.sh); see README.md.
# All stages live in ser.sh (sets, configs and features at its defaults);
# only what differs for this corpus is set here.
set -euo pipefail

./ser.sh --heldout_per_spk 8 "$@"

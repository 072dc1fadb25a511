#!/usr/bin/env bash
# Berlin EmoDB (10 speakers, 7 emotions): the corpus is read from ${EMODB} (db.sh); see README.md.
# All stages live in ser.sh (sets, configs and features at its defaults);
# only what differs for this corpus is set here.
set -euo pipefail

./ser.sh --heldout_per_spk 5 "$@"

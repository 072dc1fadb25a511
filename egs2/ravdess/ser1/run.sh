#!/usr/bin/env bash
# RAVDESS speech (24 actors, 8 emotions): the corpus is read from ${RAVDESS} (db.sh); see README.md.
# All stages live in ser.sh; options given here are passed on to it.
set -euo pipefail

./ser.sh \
  --ser_config conf/train_ser.yaml \
  --fbank_conf conf/fbank.conf \
  --train_set train --valid_set valid --test_sets test \
  --heldout_per_spk 8 \
  "$@"

#!/usr/bin/env bash
# Recipe for the built-in emotional speech corpus (generated, no download).
# All stages live in ser.sh; options given here are passed on to it.
set -euo pipefail

./ser.sh \
  --ser_config conf/train_ser.yaml \
  --fbank_conf conf/fbank.conf \
  --train_set train --valid_set valid --test_sets test \
  "$@"

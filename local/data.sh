#!/usr/bin/env bash
# Data preparation for the built-in corpus: generates the audio into
# ${BUILTIN} (db.sh) and writes data/{train,valid,test}.
# The evaluation speakers record more than the training speakers so that
# test UAR differences of about a point can be resolved (docs/reference.md,
# "The built-in corpus").
set -euo pipefail
help_message="Usage: $0 [--num_speakers N] [--num_valid_speakers N] [--num_test_speakers N]
  [--utts_per_emotion N] [--valid_utts_per_emotion N] [--test_utts_per_emotion N] [--seed N]"
num_speakers=28
num_valid_speakers=8
num_test_speakers=8
utts_per_emotion=22        # per training speaker (8 of them held out: run.sh)
valid_utts_per_emotion=16  # per valid speaker
test_utts_per_emotion=192  # per test speaker
seed=0
. ./path.sh
. ./db.sh
. utils/parse_options.sh

python3 -m espnet2_unlearn.bin.make_corpus \
  --data_dir data --wav_dir "${BUILTIN}" \
  --num_speakers "${num_speakers}" \
  --num_valid_speakers "${num_valid_speakers}" \
  --num_test_speakers "${num_test_speakers}" \
  --utts_per_emotion "${utts_per_emotion}" \
  --valid_utts_per_emotion "${valid_utts_per_emotion}" \
  --test_utts_per_emotion "${test_utts_per_emotion}" \
  --seed "${seed}"

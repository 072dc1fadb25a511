#!/usr/bin/env bash
# Data preparation for the built-in corpus: generates the audio into
# ${BUILTIN} (db.sh) and writes data/{train,valid,test}.
set -euo pipefail
help_message="Usage: $0 [--num_speakers N] [--utts_per_emotion N] [--seed N]"
num_speakers=20
num_valid_speakers=4
num_test_speakers=4
utts_per_emotion=16
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
  --seed "${seed}"

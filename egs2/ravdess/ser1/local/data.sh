#!/usr/bin/env bash
# Stage 1 for RAVDESS: reads ${RAVDESS} (db.sh), writes data/{train,valid,test}
# and 16 kHz copies of the 48 kHz audio in data/local/wav16k.
set -euo pipefail
help_message="Usage: $0 [--valid_speakers 'Actor_21 Actor_22'] [--test_speakers 'Actor_23 Actor_24'] [--merge_calm true]"
valid_speakers="Actor_21 Actor_22"
test_speakers="Actor_23 Actor_24"
merge_calm=false   # true: calm counts as neutral (7 classes)
. ./path.sh
. ./db.sh
. utils/parse_options.sh

opts=()
[ "${merge_calm}" = true ] && opts+=(--merge_calm)
python3 -m espnet2_unlearn.bin.prepare_corpus ravdess "${RAVDESS}" --data_dir data \
  --valid_speakers ${valid_speakers} --test_speakers ${test_speakers} "${opts[@]}"

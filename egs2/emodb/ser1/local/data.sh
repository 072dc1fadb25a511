#!/usr/bin/env bash
# Stage 1 for EmoDB: reads ${EMODB} (db.sh), writes data/{train,valid,test}.
set -euo pipefail
help_message="Usage: $0 [--valid_speakers '12 14'] [--test_speakers '15 16']"
valid_speakers="12 14"   # one male, one female speaker each
test_speakers="15 16"
. ./path.sh
. ./db.sh
. utils/parse_options.sh

python3 -m espnet2_unlearn.bin.prepare_corpus emodb "${EMODB}" --data_dir data \
  --valid_speakers ${valid_speakers} --test_speakers ${test_speakers}

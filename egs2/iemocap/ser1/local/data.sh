#!/usr/bin/env bash
# Stage 1 for IEMOCAP (4 classes): reads ${IEMOCAP} (db.sh), writes
# data/{train,valid,test} split by session.
set -euo pipefail
help_message="Usage: $0 [--test_session 5] [--valid_session 4]"
test_session=5    # leave-one-session-out: 1..5
valid_session=4
. ./path.sh
. ./db.sh
. utils/parse_options.sh

python3 -m espnet2_unlearn.bin.prepare_corpus iemocap "${IEMOCAP}" --data_dir data \
  --test_session "${test_session}" --valid_session "${valid_session}"

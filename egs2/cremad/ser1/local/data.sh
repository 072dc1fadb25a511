#!/usr/bin/env bash
# Stage 1 for CREMA-D: reads ${CREMAD} (db.sh), writes data/{train,valid,test}.
set -euo pipefail
help_message="Usage: $0 [--valid_speakers '1072 ... 1081'] [--test_speakers '1082 ... 1091']"
valid_speakers="$(seq -s ' ' 1072 1081)"
test_speakers="$(seq -s ' ' 1082 1091)"
. ./path.sh
. ./db.sh
. utils/parse_options.sh

python3 -m espnet2_unlearn.bin.prepare_corpus cremad "${CREMAD}" --data_dir data \
  --valid_speakers ${valid_speakers} --test_speakers ${test_speakers}

#!/usr/bin/env bash
# Checks a Kaldi data directory and names the first problem it finds:
#  - utt2spk, spk2utt, text and wav.scp (or feats.scp) exist, unless told
#    otherwise with --no-text, --no-wav, --no-feats
#  - every line of every table has a key and a value
#  - keys are unique and sorted (LC_ALL=C), as Kaldi tools expect
#  - all tables list the same utterances as utt2spk
#  - spk2utt agrees with utt2spk
#  - with --token-list FILE, every label in text is one of its tokens
#  - with --non-empty true, the dir holds at least one utterance
#   utils/validate_data_dir.sh [options] <data-dir>
set -euo pipefail
help_message="Usage: $0 [--no-text true] [--no-wav true] [--no-feats true] [--token-list FILE] <data-dir>"
no_text=false
no_wav=false
no_feats=true
token_list=
non_empty=true
. "$(dirname "$0")/parse_options.sh"
[ $# -eq 1 ] || { echo "${help_message}" >&2; exit 1; }
data=$1
die() { echo "$0: $*" >&2; exit 1; }

[ -d "${data}" ] || die "data directory ${data} does not exist"
required=(utt2spk spk2utt)
${no_text} || required+=(text)
${no_wav} || required+=(wav.scp)
${no_feats} || required+=(feats.scp)
for f in "${required[@]}"; do
  [ -f "${data}/${f}" ] || die "${data}/${f} does not exist"
done

check_table() {  # key/value lines, unique sorted keys
  LC_ALL=C awk -v f="$1" '
    NF < 2 { printf "%s:%d: expected \"<key> <value>\", got \"%s\"\n", f, NR, $0; bad = 1; exit 1 }
    NR > 1 && $1 == prev { printf "%s:%d: duplicate key %s\n", f, NR, $1; bad = 1; exit 1 }
    NR > 1 && $1 < prev { printf "%s:%d: key %s is out of order (sort with LC_ALL=C sort)\n", f, NR, $1; bad = 1; exit 1 }
    { prev = $1 }' "$1" >&2 || exit 1
}

check_table "${data}/utt2spk"
if [ "${non_empty}" = true ] && [ ! -s "${data}/utt2spk" ]; then
  die "${data}/utt2spk is empty"
fi
utts=$(mktemp)
trap 'rm -f "${utts}"' EXIT
awk '{print $1}' "${data}/utt2spk" > "${utts}"
for f in text wav.scp feats.scp utt2num_frames utt2dur; do
  [ -f "${data}/${f}" ] || continue
  check_table "${data}/${f}"
  # Name the first utterance that only one of the two files has.
  diff_utt=$(awk '{print $1}' "${data}/${f}" | LC_ALL=C comm -3 "${utts}" - | head -n 1)
  if [ -n "${diff_utt}" ]; then
    case "${diff_utt}" in
      $'\t'*) die "utterance ${diff_utt#$'\t'} is in ${data}/${f} but not in ${data}/utt2spk" ;;
      *) die "utterance ${diff_utt} is in ${data}/utt2spk but not in ${data}/${f}" ;;
    esac
  fi
done
awk 'NF == 2' "${data}/utt2spk" | "$(dirname "$0")/utt2spk_to_spk2utt.pl" | cmp -s - "${data}/spk2utt" \
  || die "${data}/spk2utt does not agree with ${data}/utt2spk (remake it with utils/utt2spk_to_spk2utt.pl)"

if [ -f "${data}/text" ] && [ -n "${token_list}" ]; then
  [ -f "${token_list}" ] || die "token list ${token_list} does not exist"
  awk -v f="${data}/text" 'NR == FNR { ok[$1] = 1; next }
    { for (i = 2; i <= NF; i++) if (!($i in ok)) {
        printf "%s:%d: label \"%s\" of utterance %s is not in the token list\n", f, FNR, $i, $1; exit 1 } }' \
    "${token_list}" "${data}/text" >&2 || die "${data}/text has labels that ${token_list} does not list"
fi
exit 0

#!/usr/bin/env bash
# Copies the part of a data dir that belongs to the listed utterances (or
# speakers) into a new data dir.  The new dir is written under a temporary
# name and renamed when complete.
#   utils/subset_data_dir.sh --utt-list LIST SRC DEST
#   utils/subset_data_dir.sh --spk-list LIST SRC DEST
set -euo pipefail
help_message="Usage: $0 (--utt-list LIST | --spk-list LIST) <src-data-dir> <dest-data-dir>"
utt_list=
spk_list=
. "$(dirname "$0")/parse_options.sh"
if [ $# -ne 2 ] || { [ -z "${utt_list}" ] && [ -z "${spk_list}" ]; }; then
  echo "${help_message}" >&2; exit 1
fi
src=$1
dest=$2
utils=$(dirname "$0")
[ -f "${src}/utt2spk" ] || { echo "$0: ${src}/utt2spk does not exist" >&2; exit 1; }

tmp="${dest}.tmp.$$"
rm -rf "${tmp}"
mkdir -p "${tmp}"
trap 'rm -rf "${tmp}"' EXIT
if [ -n "${spk_list}" ]; then
  [ -f "${spk_list}" ] || { echo "$0: speaker list ${spk_list} does not exist" >&2; exit 1; }
  "${utils}/filter_scp.pl" "${spk_list}" "${src}/spk2utt" > "${tmp}/spk2utt"
  "${utils}/spk2utt_to_utt2spk.pl" "${tmp}/spk2utt" | LC_ALL=C sort > "${tmp}/utt2spk"
else
  [ -f "${utt_list}" ] || { echo "$0: utterance list ${utt_list} does not exist" >&2; exit 1; }
  "${utils}/filter_scp.pl" "${utt_list}" "${src}/utt2spk" > "${tmp}/utt2spk"
fi
[ -s "${tmp}/utt2spk" ] || { echo "$0: no utterance of ${src} is in the list" >&2; exit 1; }
"${utils}/utt2spk_to_spk2utt.pl" "${tmp}/utt2spk" > "${tmp}/spk2utt"
awk '{print $1}' "${tmp}/utt2spk" > "${tmp}/.utts"
for f in wav.scp feats.scp text utt2num_frames utt2dur segments; do
  [ -f "${src}/${f}" ] && "${utils}/filter_scp.pl" "${tmp}/.utts" "${src}/${f}" > "${tmp}/${f}"
done
if [ -f "${src}/spk2gender" ]; then
  "${utils}/filter_scp.pl" "${tmp}/spk2utt" "${src}/spk2gender" > "${tmp}/spk2gender"
fi
rm -f "${tmp}/.utts"
rm -rf "${dest}"
mv "${tmp}" "${dest}"
trap - EXIT
echo "$0: $(wc -l < "${dest}/utt2spk") utterances of ${src} -> ${dest}"

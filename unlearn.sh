#!/usr/bin/env bash
# Unlearning (stage 5) for any ESPnet classification recipe: makes a trained
# cls model forget the utterances of a forget list, reading nothing else of
# the training data.  Run it from the recipe directory (its path.sh and
# cmd.sh are used), e.g. in an egs2/*/cls1 recipe:
#
#   /path/to/espnet_unlearn/unlearn.sh --cls_exp exp/cls_train \
#       --train_dir dump/raw/train --speech_file wav.scp --speech_type sound \
#       --forget_list data/forget
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/utils/log.sh"
command_line=$(printf '%q ' "$0" "$@")  # recorded in the output as run.sh
# TERM and INT end the script as an error does, so that its EXIT trap (the
# lock, the ERROR line) runs once the running command has stopped.
trap 'exit 143' TERM
trap 'exit 130' INT
# Any failure ends in an ERROR line, also one that die did not report (a
# full disk under a redirection, a signal).
lock=
on_exit() {
  local rc=$?
  [ -z "${lock}" ] || rm -f "${lock}"
  [ "${rc}" -eq 0 ] || [ -n "${_died:-}" ] \
    || echo "$(date "+%Y-%m-%dT%H:%M:%S") (unlearn.sh) ERROR: unlearning stopped (exit ${rc}); nothing was published" >&2
}
trap on_exit EXIT
unlearn_root=$(dirname "$(readlink -f "$0")")

cls_exp=                    # the trained model's experiment dir
inference_model=            # its model file (default: train.loss.ave.pth, else valid.acc.best.pth)
train_dir=dump/fbank/train  # training data: speech file, text (labels), utt2spk
speech_file=feats.scp       # the speech file in train_dir
speech_type=kaldi_ark       # its ESPnet data type (kaldi_ark, sound, ...)
forget_list=                # a Kaldi data dir or a file of utterance ids (required)
forget_request=auto         # utterance, speaker, or auto: speaker if it holds all of each speaker's utterances
unlearn_config=conf/unlearn.yaml
unlearn_args=               # extra options, e.g. "--adv_weight 0"
unlearn_tag=                # output: exp/unlearn_<tag> (default: name of the forget list)
outdir=                     # output dir, instead of exp/unlearn_<tag>
expdir=exp
ngpu=0
python=python3

help_message="Usage: $0 --cls_exp DIR --forget_list LIST [options]
Options (default in brackets):
  --cls_exp DIR          experiment dir of the trained classification model (required)
  --inference_model FILE model file in it [train.loss.ave.pth, or valid.acc.best.pth,
                         the file ESPnet's cls1 template keeps, when there is no average]
  --train_dir DIR        dir with the training speech file, text and utt2spk [${train_dir}]
  --speech_file NAME     speech file in --train_dir [${speech_file}]
  --speech_type TYPE     its ESPnet data type [${speech_type}]
  --forget_list LIST     Kaldi data dir or file of utterance ids to forget (required)
  --forget_request STR   utterance, speaker or auto [${forget_request}]
  --unlearn_config FILE  hyper-parameters [${unlearn_config}]
  --unlearn_args STR     extra options for espnet2_unlearn.bin.unlearn_train
  --unlearn_tag NAME     output dir exp/unlearn_<tag> [name of --forget_list]
  --outdir DIR           output dir, instead of exp/unlearn_<tag>
  --expdir DIR           [${expdir}]
  --ngpu N               [${ngpu}]
  --python PY            [${python}]
The default config projects every step (update_transform projection), which
reads per-layer statistics of the training data beside the model, <cls_exp>/train_statistics.pth.  Make them once, after training and
before the first request, with that recipe's training data (or run the seed
method, --unlearn_config conf/unlearn_seed.yaml, which needs none):
  python -m espnet2_unlearn.bin.train_statistics --model_dir <cls_exp> \\
      --model_file <inference_model> \\
      --data_path_and_name_and_type <train_dir>/<speech_file>,speech,<speech_type> \\
      --data_path_and_name_and_type <train_dir>/text,label,text
Every unlearned model carries them less its request, for the next request."
[ -f ./path.sh ] && . ./path.sh
[ -f ./cmd.sh ] && . ./cmd.sh
: "${cuda_cmd:=${unlearn_root}/utils/run.pl}"
. "${unlearn_root}/utils/parse_options.sh"
[ $# -eq 0 ] || die "unexpected arguments: $*"

[ -n "${cls_exp}" ] || die "--cls_exp is required"
[ -n "${forget_list}" ] || die "--forget_list is required"
[ -e "${forget_list}" ] || die "forget list ${forget_list} does not exist"
if [ -z "${inference_model}" ]; then
  for m in train.loss.ave.pth valid.acc.best.pth; do
    [ -f "${cls_exp}/${m}" ] && { inference_model=${m}; break; }
  done
  [ -n "${inference_model}" ] || die "${cls_exp} holds neither train.loss.ave.pth nor valid.acc.best.pth: choose the model file with --inference_model; model files in ${cls_exp}: $(cd "${cls_exp}" 2>/dev/null && ls -- *.pth 2>/dev/null | tr '\n' ' ')"
  log "Model file: ${cls_exp}/${inference_model} (the first of train.loss.ave.pth and valid.acc.best.pth there; --inference_model chooses another)"
fi
[ -e "${cls_exp}/${inference_model}" ] || die "model file ${cls_exp}/${inference_model} does not exist (--inference_model); model files in ${cls_exp}: $(cd "${cls_exp}" 2>/dev/null && ls -- *.pth 2>/dev/null | tr '\n' ' ')"
for f in "${cls_exp}/config.yaml" "${train_dir}/${speech_file}" "${train_dir}/text"; do
  [ -e "${f}" ] || die "${f} does not exist"
done
# The speech file's first entry must be of the type given, before any job starts.
speech_entry=$(awk 'NF > 1 { $1 = ""; sub(/^ /, ""); print; exit }' "${train_dir}/${speech_file}")
case "${speech_type}" in
  kaldi_ark) [[ "${speech_entry}" =~ \.ark:[0-9]+$ ]] \
    || die "${train_dir}/${speech_file}: its first entry '${speech_entry}' is not a Kaldi archive offset (file.ark:N), which --speech_type kaldi_ark reads; for audio (a wav.scp) give --speech_type sound" ;;
  sound) [[ ! "${speech_entry}" =~ \.ark:[0-9]+$ ]] \
    || die "${train_dir}/${speech_file}: its first entry '${speech_entry}' is a Kaldi archive offset: give --speech_type kaldi_ark" ;;
esac
[ -f "${unlearn_config}" ] || die "unlearning config ${unlearn_config} does not exist"
[ -n "${unlearn_tag}" ] || unlearn_tag=$(basename "${forget_list}")
[[ "${forget_list}" != *[[:space:]]* ]] || die "forget list '${forget_list}': its path holds a blank, which the stages cannot pass on; rename it"
[[ "${unlearn_tag}" =~ ^[A-Za-z0-9._+-]+$ ]] || die "request name '${unlearn_tag}' (--unlearn_tag, or the forget list's name) may hold only letters, digits and . _ + -"
[ -n "${outdir}" ] || outdir="${expdir}/unlearn_${unlearn_tag}"

# The forget list is read once, by Python: checked against the training
# data, and (auto) a speaker request when it holds every utterance of its speakers.
[ -f "${train_dir}/utt2spk" ] || die "${train_dir}/utt2spk does not exist"
info=$(${python} -m espnet2_unlearn.bin.forget_list --train_dir "${train_dir}" --expdir "${expdir}" "${forget_list}") \
  || die "forget list ${forget_list} cannot be served (see the message above)"
read -r _ request _ <<< "${info}"
[ "${forget_request}" = auto ] && forget_request=${request}

# One run per request at a time: a second one refuses before it writes
# anything (its log would replace the first one's). The kernel drops the
# lock with this process however it ends; the job inherits it through
# ESPNET_UNLEARN_LOCKED (espnet2_unlearn/lock.py).
# The lock file goes with the run; a run that locked a file another run
# had just removed finds the path pointing elsewhere and refuses.
lock_file="$(dirname "${outdir}")/.$(basename "${outdir}").lock"
mkdir -p "$(dirname "${outdir}")"
exec 9<>"${lock_file}"
flock -n 9 || die "unlearning into ${outdir} is running already (pid $(head -c 64 "${lock_file}"), lock ${lock_file}): wait for it to finish, or stop it"
[ "$(stat -L -c %i /dev/fd/9)" = "$(stat -c %i "${lock_file}" 2>/dev/null)" ] \
  || die "unlearning into ${outdir} was started again while this run started: run it once more"
lock=${lock_file}
echo $$ > "${lock}"
export ESPNET_UNLEARN_LOCKED="${lock}"
[ ! -e "${outdir}" ] || die "${outdir} already exists: every run writes a new directory (choose --unlearn_tag)"
mkdir -p "${expdir}/logs"
logfile="${expdir}/logs/$(basename "${outdir}").log"
log "Unlearning ${cls_exp}/${inference_model} on ${forget_list} (${forget_request} request) -> ${outdir}"
log "Log: ${logfile}"
start=$(date +%s.%N)
${cuda_cmd} --gpu "${ngpu}" "${logfile}" \
  ${python} -m espnet2_unlearn.bin.unlearn_train \
    --config "${unlearn_config}" \
    --source_model "${cls_exp}/${inference_model}" \
    --source_config "${cls_exp}/config.yaml" \
    --forget_list "${forget_list}" \
    --forget_request "${forget_request}" \
    --forget_data_path_and_name_and_type "${train_dir}/${speech_file},speech,${speech_type}" \
    --forget_data_path_and_name_and_type "${train_dir}/text,label,text" \
    --ngpu "${ngpu}" \
    --output_dir "${outdir}" \
    --process_start "${start}" --stage_command "${command_line}" --request_name "${unlearn_tag}" \
    ${unlearn_args} \
  || { grep -h "^unlearn_train:" "${logfile}" >&2 || true; die "unlearning failed: see ${logfile}"; }
grep -E "INFO: (before|reached|stopped)" "${outdir}/unlearn.log" | sed 's/^.*INFO: /  /' || true
log "Unlearned model: ${outdir}/unlearned.pth (report: ${outdir}/forget_report.json)"

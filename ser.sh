#!/usr/bin/env bash
# The stage engine of every ESPnet-Unlearn recipe.  A recipe's run.sh calls
# it with its own settings; see ./run.sh --help for the options.
set -euo pipefail

. "$(dirname "$(readlink -f "$0")")/utils/log.sh"
# The command line, recorded in each experiment dir as run.sh (as ESPnet's
# cls.sh does), so that a run can be repeated or resumed from a later stage.
command_line=$(printf '%q ' "$0" "$@")
# TERM and INT end the script as an error does, so that its one EXIT trap
# removes the temporaries once the running command has stopped.
temporaries=()
temporary() { temporaries+=("$@"); }  # temporary PATH...: removed when this script exits
trap 'rm -rf -- "${temporaries[@]}"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
SECONDS=0

# General options
stage=1               # first stage to run
stop_stage=8          # last stage to run (stage 9, the purge, runs only when asked for)
nj=2                  # parallel jobs for feature extraction and statistics
ngpu=0                # GPUs for training (0: CPU)
seed=0                # seed of every random choice of the recipe
python=python3        # the Python of path.sh's environment
expdir=exp            # where experiments go
dumpdir=dump          # where features go

# Data preparation (stage 1)
local_data_opts=      # options passed to local/data.sh
heldout_per_spk=8     # utterances per training speaker kept out of training (0: none)
min_reference_utts=20 # fewest utterances of heldout and valid, the forget target's references (not an option)

# Data sets
train_set=train
valid_set=valid
test_sets=test
heldout_set=heldout

# Features (stage 2)
fbank_conf=conf/fbank.conf

# SER model (stages 3-4)
ser_config=conf/train_ser.yaml   # ESPnet cls_train config
ser_args=             # extra options for cls_train, e.g. "--max_epoch 5"
tag=                  # experiment name suffix: exp/ser_<tag> (default: config name)
ser_stats_dir=        # statistics dir (default: exp/ser_stats)
feats_normalize=global_mvn  # normalisation of the features: global_mvn, utterance_mvn or none
inference_model=train.loss.ave.pth  # model file used for decoding (average of the last epochs)
skip_train=false      # stage 4: keep the model already in exp/ser_<tag> (its config.yaml and --inference_model), compute the rest
speech_fold_length=800  # batches with longer utterances (frames) are halved

# Unlearning (stage 5)
ser_exp=              # the model to unlearn from (default: exp/ser_<tag> of stage 4)
forget_list=          # Kaldi data dir (subset of data/train) or file of utterance ids
default_forget_utts=50  # size of the random forget set made when --forget_list is not given
unlearn_config=conf/unlearn.yaml  # unlearning hyper-parameters
unlearn_args=         # extra options, e.g. "--adv_weight 0 --max_steps 20"
unlearn_tag=          # output exp/unlearn_<tag> (default: name of the forget list)

# Gold standard and baselines (stage 7)
baselines=all         # which baselines stage 7 runs: all (those below), some of them, or "" for none
finetune_epochs=5     # epochs of the fine-tune-on-retain baseline
reference_seeds=      # also train the source's config at these seeds, on all of train and without the
                      # forget set: the reference models of the per-utterance attack (e.g. "1 2 3 4")

# Evaluation (stage 6)
lira=auto             # the per-utterance likelihood-ratio attack: auto (when the models of --reference_seeds
                      # are there), true (they must be), false

# Purge (stage 9)
dry_run=false         # true: print what the purge would remove, change nothing

# Baselines of stage 7 on the same forget set: options of unlearn_train on
# top of the seed method's config (baseline_config), or (finetune)
# fine-tuning of the source model on the retain set.
baseline_config=conf/unlearn_seed.yaml
# The one list of them: "name:options", in the order the tables show them.
baseline_list=(
  "seed:"                                            # the seed method: relabeling + adversarial + elastic
  "relabel:--adv_weight 0 --elastic_weight 0"        # random relabeling only
  "ascent:--forget_loss ascent --adv_weight 0 --elastic_weight 0"  # gradient ascent only
  "l2ul:--forget_loss ascent"                        # ascent + adversarial + elastic (L2UL-style)
  "relabel_adv:--elastic_weight 0"                   # relabeling + adversarial
  "relabel_elastic:--adv_weight 0"                   # relabeling + elastic
  "targeted:--forget_loss targeted"                  # targeted relabeling + adversarial + elastic
  "finetune:"                                        # fine-tuning on the retain set (no unlearn_train options)
)
declare -A baseline_args=()
all_baselines=
for entry in "${baseline_list[@]}"; do
  baseline_args[${entry%%:*}]=${entry#*:}
  all_baselines+="${all_baselines:+ }${entry%%:*}"
done

help_message=$(cat <<EOF
Usage: $0 [options]
Stages:
  1 data preparation   2 fbank features   3 token list and statistics   4 SER training
  5 unlearning of --forget_list   6 evaluation of every model present
  7 gold standard (retrained without the forget set) and baselines, then evaluation again
  8 packing of the unlearned model (espnet2.bin.pack)
  9 purge of the forgotten utterances from data/, dump/, exp/ and the recipe's own
    audio copies, verified by a scan, with an audit record in exp/requests/
    (only when asked for: --stage 9)

Options (default in brackets):
  --stage N              first stage to run [${stage}]
  --stop_stage N         last stage to run [${stop_stage}]
  --nj N                 parallel jobs [${nj}]
  --ngpu N               GPUs for training, 0 for CPU [${ngpu}]
  --seed N               seed of the recipe's random choices [${seed}]
  --python PY            Python interpreter [${python}]
  --expdir DIR           experiment directory [${expdir}]
  --dumpdir DIR          feature directory [${dumpdir}]
  --local_data_opts STR  options for local/data.sh [${local_data_opts}]
  --heldout_per_spk N    held-out utterances per training speaker [${heldout_per_spk}]
  --train_set NAME       [${train_set}]
  --valid_set NAME       [${valid_set}]
  --test_sets "NAMES"    [${test_sets}]
  --heldout_set NAME     [${heldout_set}]
  --fbank_conf FILE      Kaldi-style fbank options [${fbank_conf}]
  --ser_config FILE      ESPnet cls_train config [${ser_config}]
  --ser_args STR         extra cls_train options, e.g. "--max_epoch 5" [${ser_args}]
  --tag NAME             experiment tag: exp/ser_<tag> [name of --ser_config]
  --ser_stats_dir DIR    statistics directory [exp/ser_stats]
  --feats_normalize STR  global_mvn, utterance_mvn or none [${feats_normalize}]
  --inference_model FILE model file for decoding [${inference_model}]
  --skip_train BOOL      stage 4 keeps the model in exp/ser_<tag> and computes only what
                         later stages read beside it (decodings, statistics) [${skip_train}]
  --speech_fold_length N utterance length (frames) above which batches shrink [${speech_fold_length}]
  --ser_exp DIR          model to unlearn from [exp/ser_<tag>]
  --forget_list LIST     data dir or id file of the utterances to forget
                         [none: ${default_forget_utts} random training utterances]
  --default_forget_utts N size of that default forget set [${default_forget_utts}]
  --unlearn_config FILE  unlearning hyper-parameters [${unlearn_config}]
  --unlearn_args STR     extra unlearning options, e.g. "--adv_weight 0" [${unlearn_args}]
  --unlearn_tag NAME     output exp/unlearn_<tag> [name of the forget list]
  --baselines "NAMES"    stage 7 baselines among ${all_baselines}, or all [${baselines}]
  --finetune_epochs N    epochs of the finetune baseline [${finetune_epochs}]
  --reference_seeds "N.." stage 7 also trains the source's config at these seeds on all of
                         train (<ser_exp>_seed<N>) and without the forget set
                         (<gold>_seed<N>): the attack's reference models [${reference_seeds}]
  --lira auto|true|false stage 6: the per-utterance likelihood-ratio attack with the models
                         of --reference_seeds (auto: when they are all there) [${lira}]
  --dry_run BOOL         stage 9: print what would be removed, change nothing [${dry_run}]
  --config FILE          file of option settings, read first
  --help                 this message
The job back-end (local or slurm) is chosen in cmd.sh.
EOF
)

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
[ $# -eq 0 ] || die "unexpected arguments: $* (options are --name value; see --help)"

# The purge is never part of a default run; asked for alone, it runs.
[ "${stage}" -eq 9 ] && [ "${stop_stage}" -lt 9 ] && stop_stage=9
[ -n "${tag}" ] || tag=$(basename "${ser_config}" .yaml)
[ -n "${ser_exp}" ] || ser_exp="${expdir}/ser_${tag}"
# The model stages 5-9 start from: a trained model's --inference_model, or,
# when --ser_exp is an unlearned model (a later request), its unlearned.pth.
source_file=${inference_model}
if [ ! -e "${ser_exp}/${inference_model}" ] && [ -e "${ser_exp}/unlearned.pth" ]; then source_file=unlearned.pth; fi
default_forget=false
if [ -z "${forget_list}" ]; then
  forget_list="data/forget_rand${default_forget_utts}_seed${seed}"
  default_forget=true
fi
[ -n "${unlearn_tag}" ] || unlearn_tag=$(basename "${forget_list}")
# Kaldi-style tools split their arguments and tables on blanks: refused here,
# before any stage, rather than half-served.
[[ "${forget_list}" != *[[:space:]]* ]] || die "forget list '${forget_list}': its path holds a blank, which the stages cannot pass on; rename it"
[[ "${unlearn_tag}" =~ ^[A-Za-z0-9._+-]+$ ]] || die "request name '${unlearn_tag}' (--unlearn_tag, or the forget list's name) may hold only letters, digits and . _ + -"
unlearn_exp="${expdir}/unlearn_${unlearn_tag}"
forget_key=   # set by forget_info, with gold_exp and retain_dir
[ "${baselines}" != all ] || baselines=${all_baselines}
for b in ${baselines}; do
  [ -n "${baseline_args[${b}]+set}" ] || die "unknown baseline '${b}' in --baselines (known: ${all_baselines})"
done
[ -n "${ser_stats_dir}" ] || ser_stats_dir="${expdir}/ser_stats"
feats_dir="${dumpdir}/fbank"
token_list=data/token_list
all_sets="${train_set} ${valid_set} ${test_sets}"
[ "${heldout_per_spk}" -gt 0 ] && all_sets+=" ${heldout_set}"

# The package must be importable before any stage runs.
if ! ${python} -c "import espnet2, espnet2_unlearn" 2>/dev/null; then
  if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "${MAIN_ROOT}/tools/setup_venv.sh" ]; then
    log "No environment with espnet2 and espnet2_unlearn: making ${MAIN_ROOT}/.venv"
    "${MAIN_ROOT}/tools/setup_venv.sh"
    . ./path.sh
  fi
  ${python} -c "import espnet2, espnet2_unlearn" || die "${python} cannot import espnet2 and espnet2_unlearn"
fi

feat_dim_of() {  # feat_dim_of FEATS_SCP: the feature dimension of its first utterance
  ${python} -c "import sys, kaldiio; print(next(iter(kaldiio.load_scp(sys.argv[1]).values())).shape[-1])" "$1"
}

need() {  # need FILE STAGE: a stage's input, made by an earlier stage
  [ -e "$1" ] || die "$1 does not exist: run stage $2 first (--stage $2)"
}

need_model() {  # need_model DIR FILE: a model file, or the list of those there are
  [ -e "$1/$2" ] || die "model file $1/$2 does not exist (--inference_model); model files in $1: $(cd "$1" 2>/dev/null && ls -- *.pth 2>/dev/null | tr '\n' ' ')"
}

since() {  # since START: seconds elapsed since START (date +%s.%N)
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

# Decodes sets with one model in one process (ESPnet's inference class, in
# batches) through $decode_cmd: decode_model MODEL_DIR MODEL_FILE OUTDIR SET...
decode_model() {
  local model_dir=$1 model_file=$2 outdir=$3 dset specs=""
  shift 3
  for dset in "$@"; do specs+=" ${dset}=${feats_dir}/${dset}"; done
  mkdir -p "${outdir}"
  ${decode_cmd} "${outdir}/decode_sets.log" \
    ${python} -m espnet2_unlearn.bin.decode_sets --model_dir "${model_dir}" --model_file "${model_file}" \
      --ngpu 0 --output_dir "${outdir}" ${specs} \
    || die "decoding with ${model_dir}/${model_file} failed: see ${outdir}/decode_sets.log"
}

audit_record() {  # the request's audit record, where the layout (espnet2_unlearn/layout.py) keeps it
  ${python} -c "import sys; from espnet2_unlearn.layout import Layout
print(Layout.of('.', exp=sys.argv[1]).record(sys.argv[2]))" "${expdir}" "${unlearn_tag}"
}

# Packs the unlearned model with its report, its evaluation, the
# normalisation statistics its config points to (as ESPnet's recipes do)
# and, after stage 9, the audit record of its request.
pack_model() {
  local pack="${unlearn_exp}/packed/unlearn_${unlearn_tag}.zip" options stats_file record
  need "${unlearn_exp}/forget_report.json" 5
  options="--option ${unlearn_exp}/forget_report.json"
  [ -f "${unlearn_exp}/eval/RESULTS.md" ] && options+=" --option ${unlearn_exp}/eval/RESULTS.md --option ${unlearn_exp}/eval/metrics.json"
  stats_file=$(${python} -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1]))
print((c.get('normalize_conf') or {}).get('stats_file') or '')" "${unlearn_exp}/config.yaml")
  [ -z "${stats_file}" ] || options+=" --option ${stats_file}"
  record=$(audit_record)
  [ ! -f "${record}" ] || options+=" --option ${record}"
  mkdir -p "${unlearn_exp}/packed"
  ${python} -m espnet2.bin.pack cls \
    --classification_train_config "${unlearn_exp}/config.yaml" \
    --classification_model_file "${unlearn_exp}/unlearned.pth" \
    ${options} --outpath "${pack}.tmp.zip" \
    || { rm -f "${pack}.tmp.zip"; die "packing failed"; }
  mv "${pack}.tmp.zip" "${pack}"
  log "Packed model: ${pack}"
}

# cls_train's data options, the same for statistics and training:
# cls_train_data TRAIN_DIR sets cls_train_data_args.
cls_train_data() {
  cls_train_data_args=(
    --use_preprocessor true
    --token_list "${token_list}"
    --input_size "$(feat_dim_of "$1/feats.scp")"
    --train_data_path_and_name_and_type "$1/feats.scp,speech,kaldi_ark"
    --train_data_path_and_name_and_type "$1/text,label,text"
    --valid_data_path_and_name_and_type "${feats_dir}/${valid_set}/feats.scp,speech,kaldi_ark"
    --valid_data_path_and_name_and_type "${feats_dir}/${valid_set}/text,label,text"
  )
}

# record_command DIR: DIR/run.sh repeats this run (from a later stage: add --stage N).
record_command() {
  printf '#!/usr/bin/env bash\n# The command that made this directory; add --stage N to resume.\n%s"$@"\n' \
    "${command_line}" > "$1/run.sh"
  chmod +x "$1/run.sh"
}

# Shapes and feature statistics of a training set and the valid set, by
# cls_train --collect_stats over nj jobs (of the features as they are: no normalisation): collect_stats TRAIN_DIR STATS_DIR CONFIG [more cls_train options]
collect_stats() {
  local train_dir=$1 stats_dir=$2 config=$3 tmp="$2.tmp" pair j _nj split_files stats_dirs
  shift 3
  rm -rf "${tmp}"
  mkdir -p "${tmp}/logdir"
  _nj=$(wc -l < "${feats_dir}/${valid_set}/feats.scp")
  _nj=$(( nj < _nj ? nj : _nj ))
  for pair in "train=${train_dir}" "valid=${feats_dir}/${valid_set}"; do
    split_files=""
    for j in $(seq "${_nj}"); do split_files+=" ${tmp}/logdir/${pair%%=*}.${j}.scp"; done
    utils/split_scp.pl "${pair#*=}/feats.scp" ${split_files}
  done
  cls_train_data "${train_dir}"
  ${train_cmd} JOB=1:"${_nj}" "${tmp}/logdir/stats.JOB.log" \
    ${python} -m espnet2.bin.cls_train \
      --collect_stats true \
      "${cls_train_data_args[@]}" \
      --train_shape_file "${tmp}/logdir/train.JOB.scp" \
      --valid_shape_file "${tmp}/logdir/valid.JOB.scp" \
      --output_dir "${tmp}/logdir/stats.JOB" \
      --normalize none \
      --config "${config}" "$@" \
    || { rm -rf "${tmp}"; die "collecting statistics of ${train_dir} failed"; }
  stats_dirs=""
  for j in $(seq "${_nj}"); do stats_dirs+=" --input_dir ${tmp}/logdir/stats.${j}"; done
  ${python} -m espnet2.bin.aggregate_stats_dirs ${stats_dirs} --output_dir "${tmp}"
  rm -rf "${stats_dir}"
  mv "${tmp}" "${stats_dir}"
}

# The statistics of the retain set (gold, reference models): those of the
# training set less the left-out utterances' features, when the features go
# into the model as they are; otherwise collected anew by the source's front-end.
retain_stats() {
  if grep -q '^frontend: null' "${retrain_config}"; then
    ${python} -m espnet2_unlearn.bin.retain_stats --train_stats_dir "${ser_stats_dir}" \
      --feats_scp "${feats_dir}/${train_set}/feats.scp" --retain_dir "${retain_dir}" --output_dir "$1" \
      || die "cannot derive the statistics of ${retain_dir} from ${ser_stats_dir}"
  else
    collect_stats "${retain_dir}" "$1" "${retrain_config}"
  fi
}

# Trains with ESPnet's cls_train through $cuda_cmd; the log is EXP_DIR/train.log:
# train_ser TRAIN_DIR STATS_DIR EXP_DIR CONFIG NORMALIZE [more cls_train options]
train_ser() {
  local train_dir=$1 stats_dir=$2 exp_dir=$3 config=$4 normalize=$5 norm_opts
  shift 5
  case "${normalize}" in
    global_mvn) norm_opts="--normalize global_mvn --normalize_conf stats_file=${stats_dir}/train/feats_stats.npz" ;;
    utterance_mvn) norm_opts="--normalize utterance_mvn" ;;
    none) norm_opts="--normalize none" ;;
    *) die "normalisation must be global_mvn, utterance_mvn or none, got '${normalize}'" ;;
  esac
  mkdir -p "${exp_dir}"
  record_command "${exp_dir}"
  cls_train_data "${train_dir}"
  ${cuda_cmd} --gpu "${ngpu}" "${exp_dir}/train.log" \
    ${python} -m espnet2.bin.cls_train \
      "${cls_train_data_args[@]}" \
      ${norm_opts} \
      --train_shape_file "${stats_dir}/train/speech_shape" \
      --valid_shape_file "${stats_dir}/valid/speech_shape" \
      --resume true \
      --ngpu "${ngpu}" \
      --output_dir "${exp_dir}" \
      --config "${config}" "$@" \
    || die "training failed: see ${exp_dir}/train.log"
}

# Stage 5's unlearning, or a baseline's: run_unlearning OUT_DIR "MORE unlearn_train OPTIONS" [CONFIG]
run_unlearning() {
  "${MAIN_ROOT}/unlearn.sh" \
    --cls_exp "${ser_exp}" --inference_model "${source_file}" \
    --train_dir "${feats_dir}/${train_set}" --speech_file feats.scp --speech_type kaldi_ark \
    --forget_list "${forget_list}" \
    --unlearn_config "${3:-${unlearn_config}}" --unlearn_args "--seed ${seed} ${unlearn_args} $2" \
    --unlearn_tag "${unlearn_tag}" --outdir "$1" --expdir "${expdir}" --ngpu "${ngpu}" --python "${python}"
}

# What the stages need of the forget list, asked of Python once: its kind of
# request, its content key, and the gold model stored under that key (a
# forget list with other contents under the same name gets its own gold).
forget_info() {
  [ -z "${forget_key:-}" ] || return 0
  local info
  info=$(${python} -m espnet2_unlearn.bin.forget_list --train_dir "${feats_dir}/${train_set}" \
    --ids_for $$ --source_config "${ser_exp}/config.yaml" --expdir "${expdir}" \
    "${forget_list}") || die "forget list ${forget_list} cannot be served (see the message above)"
  # forget_ids: the sorted ids gold leaves out, while this run lasts
  read -r num_forget forget_request forget_key num_excluded forget_ids <<< "${info}"
  temporary "${forget_ids}" "${forget_ids}.retain"
  gold_exp="${expdir}/gold_$(basename "${ser_exp}")_${forget_key}"
  retain_dir="${feats_dir}/${train_set}_retain_${forget_key}"
}

# queue_decoding MODEL_DIR MODEL_FILE JOBS SET...: adds to JOBS the decoding of
# the sets whose decodings (stage 4's, an earlier run's) are not all there.
queue_decoding() {
  local dir=$1 file=$2 jobs=$3 dset stale=""
  shift 3
  for dset in "$@"; do
    if [ ! -f "${dir}/decode_${file%.pth}/${dset}/prediction/score" ] || \
       [ "$(wc -l < "${dir}/decode_${file%.pth}/${dset}/prediction/score")" -ne "$(wc -l < "${feats_dir}/${dset}/feats.scp")" ]; then
      stale+=" ${dset}"
    fi
  done
  [ -z "${stale}" ] || echo "--model_dir ${dir} --model_file ${file} --output_dir ${dir}/decode_${file%.pth} --ngpu 0" \
    "$(for dset in ${stale}; do printf ' %s=%s' "${dset}" "${feats_dir}/${dset}"; done)" >> "${jobs}"
}

# Decodes every model present (original, unlearned, gold, baselines) on the
# training, test and held-out sets with ESPnet's inference, at most nj
# models at a time, then scores them all: ${unlearn_exp}/eval/{metrics.json,RESULTS.md,*.png}
evaluate_models() {
  need "${unlearn_exp}/forget_report.json" 5
  need "${feats_dir}/${heldout_set}/feats.scp" 2
  need_model "${ser_exp}" "${source_file}"
  forget_info
  local names=(original unlearned) dirs=("${ser_exp}" "${unlearn_exp}") files=("${source_file}" unlearned.pth)
  local i b d dec sets report n eval_args=() test_set=${test_sets%% *}
  local logdir="${unlearn_exp}/eval/log" jobs="${unlearn_exp}/eval/log/decode_jobs"
  mkdir -p "${logdir}"
  rm -f "${jobs}"
  if [ -f "${gold_exp}/train_report.json" ]; then names+=(gold); dirs+=("${gold_exp}"); files+=("${inference_model}"); fi
  for b in ${all_baselines}; do
    d="${expdir}/baseline_${b}_${unlearn_tag}"
    if [ -f "${d}/forget_report.json" ]; then names+=("${b}"); dirs+=("${d}"); files+=(unlearned.pth)
    elif [ -f "${d}/train_report.json" ]; then names+=("${b}"); dirs+=("${d}"); files+=("${inference_model}"); fi
  done
  sets="${train_set} ${test_set} ${heldout_set}"
  for i in "${!names[@]}"; do
    dec="${dirs[i]}/decode_${files[i]%.pth}"
    queue_decoding "${dirs[i]}" "${files[i]}" "${jobs}" ${sets}
    eval_args+=(--model "${names[i]}=${dec}")
    for report in forget_report process_time train_report; do  # timings and peak RSS
      [ ! -f "${dirs[i]}/${report}.json" ] || eval_args+=(--report "${names[i]}=${dirs[i]}/${report}.json")
    done
  done
  # The per-utterance attack's reference models (stage 7, --reference_seeds), on the training set only.
  local k side missing="" seeds=${reference_seeds}
  if [ "${lira}" != false ]; then
    [ "${lira}" = auto ] || [ "${lira}" = true ] || die "--lira must be auto, true or false, got '${lira}'"
    if [ -z "${seeds}" ]; then  # not named: the seeds whose two models an earlier stage 7 trained
      for d in "${ser_exp}"_seed*/train_report.json; do
        k=${d%/train_report.json}; k=${k##*_seed}
        [ ! -f "${gold_exp}_seed${k}/train_report.json" ] || seeds+="${seeds:+ }${k}"
      done
    fi
    if [ "$(wc -w <<< "${seeds}")" -lt 2 ]; then
      [ "${lira}" = auto ] || die "--lira true: the attack needs reference models of at least 2 seeds, found ${seeds:-none} (${ser_exp}_seed<N>, ${gold_exp}_seed<N>): train them with ./run.sh --stage 7 --stop_stage 7 --forget_list ${forget_list} --reference_seeds \"1 2 3 4\""
      seeds=""
    fi
    for k in ${seeds}; do
      for d in "${ser_exp}_seed${k}" "${gold_exp}_seed${k}"; do
        [ -f "${d}/train_report.json" ] || missing+=" ${d}"
      done
    done
    if [ -n "${missing}" ] && [ "${lira}" = true ]; then
      die "--lira true: reference models missing:${missing}; train them with ./run.sh --stage 7 --stop_stage 7 --forget_list ${forget_list} --reference_seeds \"${seeds}\""
    elif [ -n "${missing}" ]; then
      log "No per-utterance attack: reference models missing:${missing} (stage 7 with --reference_seeds trains them)"
    elif [ -n "${seeds}" ]; then
      log "Per-utterance attack: reference models of seeds ${seeds}"
      for k in ${seeds}; do
        for side in in out; do
          # The out models' test decodings: the utility floor's mean over gold seeds.
          if [ "${side}" = in ]; then
            d="${ser_exp}_seed${k}"; queue_decoding "${d}" "${inference_model}" "${jobs}" "${train_set}"
          else
            d="${gold_exp}_seed${k}"; queue_decoding "${d}" "${inference_model}" "${jobs}" "${train_set}" "${test_set}"
          fi
          eval_args+=(--reference_${side} "${d}/decode_${inference_model%.pth}")
        done
      done
    fi
  fi
  if [ -s "${jobs}" ]; then  # one array job, at most nj models at a time
    n=$(wc -l < "${jobs}")
    log "Decoding ${n} models: ${logdir}/decode.*.log"
    ${decode_cmd} --max-jobs-run "${nj}" JOB=1:"${n}" "${logdir}/decode.JOB.log" \
      ${python} -m espnet2_unlearn.bin.decode_sets --jobs "${jobs}" --job JOB \
      || die "decoding failed: see ${logdir}/decode.*.log"
  fi
  rm -f "${jobs}"
  log "Evaluating ${names[*]}"
  ${python} -m espnet2_unlearn.bin.evaluate \
    --token_list "${token_list}" --feats_dir "${feats_dir}" \
    --train_set "${train_set}" --test_set "${test_set}" --heldout_set "${heldout_set}" \
    --forget_list "${forget_list}" --forget_request "${forget_request}" \
    --seed "${seed}" "${eval_args[@]}" --output_dir "${unlearn_exp}/eval" \
    || die "evaluation failed"
}

# Stage 7's parts.  The retain set: train minus what gold leaves out
# (retain_dir, num_retain).
make_retain_set() {
  num_retain=$(( $(wc -l < "${feats_dir}/${train_set}/utt2spk") - num_excluded ))
  if [ ! -f "${retain_dir}/feats.scp" ]; then
    utils/filter_scp.pl --exclude "${forget_ids}" "${feats_dir}/${train_set}/utt2spk" | cut -d' ' -f1 > "${forget_ids}.retain"
    utils/subset_data_dir.sh --utt-list "${forget_ids}.retain" "${feats_dir}/${train_set}" "${retain_dir}" >/dev/null
  fi
  [ "$(wc -l < "${retain_dir}/utt2spk")" -eq "${num_retain}" ] \
    || die "${retain_dir} has $(wc -l < "${retain_dir}/utt2spk") utterances, expected ${num_retain}"
}

# The gold standard: the source model's own config.yaml (options, seed,
# model selection), retrained on the retain set with statistics of its own.
train_gold() {
  local start
  if [ -f "${gold_exp}/train_report.json" ]; then
    log "Gold standard ${gold_exp} (forget key ${forget_key}) exists: kept"
    return
  fi
  log "Gold standard: retraining ${ser_exp}'s config on ${retain_dir} (${num_retain} utterances) -> ${gold_exp}"
  rm -rf "${gold_exp}" "${gold_exp}_stats"
  start=$(date +%s.%N)
  retain_stats "${gold_exp}_stats"
  train_ser "${retain_dir}" "${gold_exp}_stats" "${gold_exp}" "${retrain_config}" "${retrain_normalize}"
  need_model "${gold_exp}" "${inference_model}"
  cp "${retrain_config}" "${gold_exp}/retrain_config.yaml"
  ${python} -m espnet2_unlearn.bin.train_report --exp_dir "${gold_exp}" \
    --process_time_s "$(since "${start}")" --num_train_utts "${num_retain}" \
    --forget_key "${forget_key}" --forget_list "${forget_list}" --source_config "${ser_exp}/config.yaml" \
    || die "cannot write ${gold_exp}/train_report.json"
}

# The reference models of the per-utterance attack (--reference_seeds): the
# source's own config at each seed, trained on all of train ("in": it saw the
# forget set) and on the retain set ("out"), as gold is; each kept when there.
train_references() {
  local k
  [ -n "${reference_seeds}" ] || return 0
  # A model that served earlier requests was trained on more than its retain set and the forget set.
  [ "${num_excluded}" -eq "${num_forget}" ] || die "--reference_seeds: ${ser_exp} has served earlier requests (${num_excluded} utterances left out in all, ${num_forget} in this one): its 'in' models cannot be retrained; train them from the model those requests started from"
  # A restored gold may lack the shapes of its retain set: made again (the same numbers).
  [ -f "${gold_exp}_stats/train/speech_shape" ] || retain_stats "${gold_exp}_stats"
  for k in ${reference_seeds}; do
    [[ "${k}" =~ ^[0-9]+$ ]] || die "--reference_seeds: '${k}' is not a seed (a non-negative integer)"
    train_reference "${ser_exp}_seed${k}" "${feats_dir}/${train_set}" "${ser_stats_dir}" "${k}"
    train_reference "${gold_exp}_seed${k}" "${retain_dir}" "${gold_exp}_stats" "${k}"
  done
}

train_reference() {  # train_reference EXP_DIR TRAIN_DIR STATS_DIR SEED
  local start
  if [ -f "$1/train_report.json" ]; then
    log "Reference model $1 exists: kept"
    return
  fi
  log "Reference model: ${ser_exp}'s config at seed $4 on $2 -> $1"
  rm -rf "$1"
  start=$(date +%s.%N)
  train_ser "$2" "$3" "$1" "${retrain_config}" "${retrain_normalize}" --seed "$4"
  need_model "$1" "${inference_model}"
  ${python} -m espnet2_unlearn.bin.train_report --exp_dir "$1" --process_time_s "$(since "${start}")" \
    --num_train_utts "$(wc -l < "$2/utt2spk")" --source_config "${ser_exp}/config.yaml" \
    || die "cannot write $1/train_report.json"
}

# run_baseline NAME: one baseline of baseline_list, kept when it is there already.
run_baseline() {
  local b=$1 out="${expdir}/baseline_$1_${unlearn_tag}" start
  if [ -f "${out}/forget_report.json" ] || [ -f "${out}/train_report.json" ]; then
    log "Baseline ${b}: ${out} exists: kept"
    return
  fi
  rm -rf "${out}"
  if [ "${b}" != finetune ]; then
    log "Baseline ${b}: unlearning with ${baseline_args[${b}]} -> ${out}"
    # A baseline is a point of comparison, published whether or not it reached the target (its report says).
    run_unlearning "${out}" "${baseline_args[${b}]} --allow_unreached true" "${baseline_config}"
    return
  fi
  log "Baseline finetune: ${finetune_epochs} epochs of ${ser_exp}/${source_file} on ${retain_dir} -> ${out}"
  # Shapes of the retain set; the normalisation comes with the source model's parameters.
  mkdir -p "${out}_stats/train"
  cp -r "${ser_stats_dir}/valid" "${out}_stats/"
  cp "${ser_stats_dir}/train/feats_stats.npz" "${out}_stats/train/"
  utils/filter_scp.pl "${retain_dir}/utt2spk" "${ser_stats_dir}/train/speech_shape" > "${out}_stats/train/speech_shape"
  start=$(date +%s.%N)
  train_ser "${retain_dir}" "${out}_stats" "${out}" "${retrain_config}" "${retrain_normalize}" \
    --init_param "${ser_exp}/${source_file}" --max_epoch "${finetune_epochs}"
  ${python} -m espnet2_unlearn.bin.train_report --exp_dir "${out}" \
    --process_time_s "$(since "${start}")" --num_train_utts "${num_retain}" \
    --forget_key "${forget_key}" --forget_list "${forget_list}" || die "cannot write ${out}/train_report.json"
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
  log "Stage 1: data preparation"
  [ -x local/data.sh ] || die "local/data.sh does not exist or is not executable"
  local/data.sh ${local_data_opts} || die "local/data.sh failed"
  for dset in ${train_set} ${valid_set} ${test_sets}; do
    utils/validate_data_dir.sh "data/${dset}" || die "data/${dset} is not a valid data dir"
  done
  # Speakers must not be shared between training and evaluation sets.
  for dset in ${valid_set} ${test_sets}; do
    shared=$(LC_ALL=C comm -12 <(cut -d' ' -f1 "data/${train_set}/spk2utt" | LC_ALL=C sort) \
                               <(cut -d' ' -f1 "data/${dset}/spk2utt" | LC_ALL=C sort) | head -n 3 | tr '\n' ' ')
    [ -z "${shared}" ] || die "speakers ${shared}are in both data/${train_set} and data/${dset}"
  done
  if [ "${heldout_per_spk}" -gt 0 ]; then
    # The held-out utterances of the training speakers are never trained on.
    rm -rf "data/${train_set}_all"
    mv "data/${train_set}" "data/${train_set}_all"
    ${python} -m espnet2_unlearn.bin.select_heldout --per_spk "${heldout_per_spk}" --seed "${seed}" \
      "data/${train_set}_all" > "data/${heldout_set}.list"
    utils/filter_scp.pl --exclude "data/${heldout_set}.list" "data/${train_set}_all/utt2spk" \
      | cut -d' ' -f1 > "data/${train_set}.list"
    utils/subset_data_dir.sh --utt-list "data/${train_set}.list" "data/${train_set}_all" "data/${train_set}"
    utils/subset_data_dir.sh --utt-list "data/${heldout_set}.list" "data/${train_set}_all" "data/${heldout_set}"
    rm -f "data/${train_set}.list" "data/${heldout_set}.list"
  fi
  for dset in ${all_sets}; do
    log "data/${dset}: $(wc -l < "data/${dset}/utt2spk") utterances, $(wc -l < "data/${dset}/spk2utt") speakers"
  done
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  log "Stage 2: fbank features (${fbank_conf}) -> ${feats_dir}"
  need "${fbank_conf}" 2
  for dset in ${all_sets}; do
    need "data/${dset}/wav.scp" 1
    utils/validate_data_dir.sh "data/${dset}" || die "data/${dset} is not a valid data dir"
  done
  # All sets are made under temporary names and renamed only when every
  # one of them succeeded.
  for dset in ${all_sets}; do
    tmp="${feats_dir}/.${dset}.tmp"
    temporary "${tmp}"
    rm -rf "${tmp}"
    mkdir -p "${tmp}/split${nj}" "${tmp}/data" "${tmp}/log"
    num_utts=$(wc -l < "data/${dset}/wav.scp")
    _nj=$(( nj < num_utts ? nj : num_utts ))
    split_files=""
    for n in $(seq "${_nj}"); do split_files+=" ${tmp}/split${nj}/wav.${n}.scp"; done
    utils/split_scp.pl "data/${dset}/wav.scp" ${split_files}
    if ! ${train_cmd} JOB=1:"${_nj}" "${tmp}/log/fbank.JOB.log" \
        ${python} -m espnet2_unlearn.bin.compute_fbank --fbank_conf "${fbank_conf}" \
          "${tmp}/split${nj}/wav.JOB.scp" "${tmp}/data/feats.JOB.ark" \
          "${tmp}/data/feats.JOB.scp" "${tmp}/data/utt2num_frames.JOB"; then
      grep -h "^compute_fbank:" "${tmp}"/log/fbank.*.log >&2 || true
      # The job logs stay where the message says; the features go.
      rm -rf "${expdir}/logs/fbank_${dset}"
      mkdir -p "${expdir}/logs"
      mv "${tmp}/log" "${expdir}/logs/fbank_${dset}"
      die "feature extraction failed for data/${dset} (job logs: ${expdir}/logs/fbank_${dset}/); nothing was written to ${feats_dir}"
    fi
    for n in $(seq "${_nj}"); do cat "${tmp}/data/feats.${n}.scp"; done \
      | sed "s#${tmp}/data/#${feats_dir}/${dset}/data/#" | LC_ALL=C sort > "${tmp}/feats.scp"
    for n in $(seq "${_nj}"); do cat "${tmp}/data/utt2num_frames.${n}"; done | LC_ALL=C sort > "${tmp}/utt2num_frames"
    rm -f "${tmp}"/data/feats.*.scp "${tmp}"/data/utt2num_frames.*
    for f in text utt2spk spk2utt; do cp "data/${dset}/${f}" "${tmp}/${f}"; done
    [ "$(wc -l < "${tmp}/feats.scp")" -eq "${num_utts}" ] || die "feature extraction lost utterances of data/${dset}"
  done
  for dset in ${all_sets}; do
    rm -rf "${feats_dir:?}/${dset}"
    mv "${feats_dir}/.${dset}.tmp" "${feats_dir}/${dset}"
    log "${feats_dir}/${dset}: $(wc -l < "${feats_dir}/${dset}/feats.scp") utterances"
  done
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  log "Stage 3: token list and statistics -> ${token_list}, ${ser_stats_dir}"
  for dset in ${train_set} ${valid_set}; do need "${feats_dir}/${dset}/feats.scp" 2; done
  # Emotions in sorted order, then <unk> last, as CLSTask expects.
  { cut -d' ' -f2- "data/${train_set}/text" | tr ' ' '\n' | LC_ALL=C sort -u; echo "<unk>"; } > "${token_list}.tmp"
  for dset in ${all_sets}; do
    utils/validate_data_dir.sh --no-wav true --no-feats false --token-list "${token_list}.tmp" \
      "${feats_dir}/${dset}" || { rm -f "${token_list}.tmp"; die "${feats_dir}/${dset} has labels never seen in training"; }
  done
  mv "${token_list}.tmp" "${token_list}"
  log "${token_list}: $(($(wc -l < "${token_list}") - 1)) classes: $(head -n -1 "${token_list}" | tr '\n' ' ')"

  collect_stats "${feats_dir}/${train_set}" "${ser_stats_dir}" "${ser_config}" ${ser_args}
  log "${ser_stats_dir}: shapes and feature statistics of ${train_set} and ${valid_set}"
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
  log "Stage 4: SER training -> ${ser_exp}"
  need "${token_list}" 3
  need "${ser_stats_dir}/train/speech_shape" 3
  need "${ser_config}" 4
  # The references of the 'auto' forget target (reference_stats.json) are
  # read off these sets: with too few utterances the target is a guess.
  if [ "${heldout_per_spk}" -gt 0 ]; then
    need "${feats_dir}/${heldout_set}/feats.scp" 2
    n=$(wc -l < "${feats_dir}/${heldout_set}/feats.scp")
    [ "${n}" -ge "${min_reference_utts}" ] || die "${feats_dir}/${heldout_set} has ${n} utterances, fewer than the ${min_reference_utts} a forget-target reference needs: raise --heldout_per_spk (now ${heldout_per_spk}) and run stage 1 again"
  fi
  n=$(wc -l < "${feats_dir}/${valid_set}/feats.scp")
  [ "${n}" -ge "${min_reference_utts}" ] || die "${feats_dir}/${valid_set} has ${n} utterances, fewer than the ${min_reference_utts} a forget-target reference (speaker requests) needs: choose a larger --valid_set"
  if [ "${skip_train}" = true ]; then
    need "${ser_exp}/config.yaml" 4
    need_model "${ser_exp}" "${inference_model}"
    log "--skip_train true: ${ser_exp}/${inference_model} is kept as it is"
  else
    log "Training log: ${ser_exp}/train.log"
    train_ser "${feats_dir}/${train_set}" "${ser_stats_dir}" "${ser_exp}" "${ser_config}" "${feats_normalize}" \
      --fold_length "${speech_fold_length}" --seed "${seed}" ${ser_args}
    need_model "${ser_exp}" "${inference_model}"
  fi

  # Numbers that later stages compare against, without reading data again.
  rm -rf "${ser_exp}/decode_${inference_model%.pth}"
  decode_sets="${valid_set} ${test_sets}"
  [ "${heldout_per_spk}" -gt 0 ] && decode_sets="${heldout_set} ${decode_sets}"
  decode_model "${ser_exp}" "${inference_model}" "${ser_exp}/decode_${inference_model%.pth}" ${decode_sets}
  stats_args=""
  for dset in ${heldout_set} ${valid_set}; do
    [ -d "${ser_exp}/decode_${inference_model%.pth}/${dset}" ] || continue
    stats_args+=" ${dset}=${feats_dir}/${dset}/text,${ser_exp}/decode_${inference_model%.pth}/${dset}"
  done
  ${python} -m espnet2_unlearn.bin.reference_stats --token_list "${token_list}" \
    --model "${inference_model}" --output "${ser_exp}/reference_stats.json" ${stats_args}
  for dset in ${test_sets}; do
    ${python} -m espnet2_unlearn.bin.reference_stats --token_list "${token_list}" \
      --model "${inference_model}" --output "${ser_exp}/decode_${inference_model%.pth}/${dset}/scores.json" \
      "${dset}=${feats_dir}/${dset}/text,${ser_exp}/decode_${inference_model%.pth}/${dset}"
  done
  # Per-layer statistics of the training data (input Grams), for the
  # projected updates of stage 5, which then read no training data.
  rm -f "${ser_exp}/train_statistics.pth"
  ${python} -m espnet2_unlearn.bin.train_statistics --model_dir "${ser_exp}" --model_file "${inference_model}" \
    --seed "${seed}" \
    --data_path_and_name_and_type "${feats_dir}/${train_set}/feats.scp,speech,kaldi_ark" \
    --data_path_and_name_and_type "${feats_dir}/${train_set}/text,label,text" > "${ser_exp}/train_statistics.log" 2>&1 \
    || die "computing ${ser_exp}/train_statistics.pth failed: see ${ser_exp}/train_statistics.log"
  grep -h "INFO: statistics of" "${ser_exp}/train_statistics.log" | sed 's/^.*INFO: /  /' || true
  log "Model: ${ser_exp}/${inference_model}, reference statistics: ${ser_exp}/reference_stats.json, ${ser_exp}/train_statistics.pth"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
  log "Stage 5: unlearning -> ${unlearn_exp}"
  need "${feats_dir}/${train_set}/feats.scp" 2
  need "${ser_exp}/config.yaml" 4
  need_model "${ser_exp}" "${source_file}"
  if [ "${default_forget}" = true ]; then
    [ -d "${forget_list}" ] || ${python} -m espnet2_unlearn.bin.make_forget \
      --num_utts "${default_forget_utts}" --seed "${seed}" "data/${train_set}" "${forget_list}"
    log "No --forget_list given: forgetting ${forget_list} (${default_forget_utts} random training utterances, seed ${seed})"
  fi
  run_unlearning "${unlearn_exp}" ""
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
  log "Stage 6: evaluation -> ${unlearn_exp}/eval"
  evaluate_models
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
  log "Stage 7: gold standard and baselines (${baselines:-none}) for ${forget_list}"
  need "${feats_dir}/${train_set}/feats.scp" 2
  # Refuses a list with ids outside the training data before anything is trained.
  forget_info
  need "${unlearn_exp}/forget_report.json" 5
  need "${ser_stats_dir}/train/speech_shape" 3
  need "${ser_exp}/config.yaml" 4
  make_retain_set
  # How the source model was trained (its own config.yaml, less its data and
  # outputs): the gold model and the fine-tune baseline follow it.
  # Named by the source too: two sources' requests of the same utterances may run at once.
  retrain_config="${expdir}/.retrain_config.$(basename "${ser_exp}").${forget_key}.yaml"
  temporary "${retrain_config}"
  retrain_normalize=$(${python} -m espnet2_unlearn.bin.gold_config "${ser_exp}/config.yaml" "${retrain_config}") \
    || die "cannot retrain like ${ser_exp}: see the message above"
  train_gold
  train_references
  for b in ${baselines}; do run_baseline "${b}"; done
  evaluate_models
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
  log "Stage 8: packing ${unlearn_exp}"
  pack_model
fi

if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
  log "Stage 9: purge of ${forget_list} (request ${unlearn_tag})$([ "${dry_run}" = true ] && echo ': dry run')"
  # Only a request that was served and evaluated is purged: the forget list
  # is deleted with the rest, so nothing could be unlearned or measured after.
  need "${unlearn_exp}/unlearned.pth" 5
  need "${unlearn_exp}/eval/metrics.json" 6
  # Printed, not logged to a file: the list of the user's own audio files
  # names the utterances, and no file of the recipe may.
  ${python} -m espnet2_unlearn.bin.purge --forget_list "${forget_list}" --request "${unlearn_tag}" \
    --unlearn_exp "${unlearn_exp}" --source_model "${ser_exp}/${source_file}" --dry_run "${dry_run}" \
    --dumpdir "${dumpdir}" --expdir "${expdir}" \
    || die "the purge of ${forget_list} did not finish (see above); run stage 9 again: it picks up where it stopped"
  if [ "${dry_run}" != true ]; then
    log "Audit record: $(audit_record) (check again: python -m espnet2_unlearn.bin.verify_purge --request ${unlearn_tag} --dumpdir ${dumpdir} --expdir ${expdir})"
    pack_model
  fi
fi

if [ "${stop_stage}" -ge 6 ] && [ -f "${unlearn_exp}/eval/RESULTS.md" ]; then
  [ ! -f "${unlearn_exp}/eval/headline.md" ] || cat "${unlearn_exp}/eval/headline.md"
  log "Results: ${unlearn_exp}/eval/RESULTS.md"
fi
log "Finished stages ${stage}-${stop_stage} in ${SECONDS} s"

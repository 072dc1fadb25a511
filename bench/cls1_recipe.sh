#!/usr/bin/env bash
# A model as ESPnet's egs2/TEMPLATE/cls1/cls.sh makes one, for the tests: raw
# waveforms (wav.scp read as "sound") through the default front-end inside
# the model, the token list of tokenize_text with cls.sh's <blank>/<unk>,
# feature statistics from collect_stats, the best model by validation
# accuracy (valid.acc.best.pth), all under exp/cls_<config>.
#   cls1_recipe.sh DATA_DIR OUT_DIR NORMALIZE CONFIG
# DATA_DIR holds train/, valid/ and test/ Kaldi dirs (wav.scp, text, utt2spk).
set -euo pipefail
data=$(readlink -f "$1") out=$2 normalize=$3 config=$(readlink -f "$4")
mkdir -p "${out}/dump/raw" "${out}/data"
cd "${out}"
for s in train valid test; do
  mkdir -p "dump/raw/${s}"
  # absolute paths, as a recipe's own data dirs would hold
  awk -v d="$(dirname "${data}")" '{ p = ($2 ~ /^\//) ? $2 : d "/" $2; print $1, p }' "${data}/${s}/wav.scp" \
    > "dump/raw/${s}/wav.scp"
  cp "${data}/${s}/text" "${data}/${s}/utt2spk" "dump/raw/${s}/"
done
python -m espnet2.bin.tokenize_text --token_type word --input dump/raw/train/text --output data/token_list.txt \
  --field 2- --cleaner none --g2p none --write_vocabulary true \
  --add_symbol "<unk>:-1" --add_symbol "<blank>:-2"
common=(--use_preprocessor true --token_list data/token_list.txt --config "${config}"
        --train_data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound
        --train_data_path_and_name_and_type dump/raw/train/text,label,text
        --valid_data_path_and_name_and_type dump/raw/valid/wav.scp,speech,sound
        --valid_data_path_and_name_and_type dump/raw/valid/text,label,text)
for s in train valid; do
  awk '{ print $1, 16000 }' "dump/raw/${s}/wav.scp" > "dump/raw/${s}/shape"
done
python -m espnet2.bin.cls_train "${common[@]}" --collect_stats true --normalize none \
  --train_shape_file dump/raw/train/shape --valid_shape_file dump/raw/valid/shape \
  --output_dir exp/cls_stats_raw > exp_stats.log 2>&1 || { cat exp_stats.log; exit 1; }
case "${normalize}" in
  global_mvn) norm=(--normalize global_mvn --normalize_conf stats_file=exp/cls_stats_raw/train/feats_stats.npz) ;;
  *) norm=(--normalize "${normalize}") ;;
esac
exp="exp/cls_$(basename "${config}" .yaml)"
mkdir -p "${exp}"  # its log is exp/cls_<config>/train.log, as cls.sh's run.pl writes it
python -m espnet2.bin.cls_train "${common[@]}" "${norm[@]}" \
  --train_shape_file exp/cls_stats_raw/train/speech_shape --valid_shape_file exp/cls_stats_raw/valid/speech_shape \
  --fold_length 80000 --output_dir "${exp}" > "${exp}/train.log" 2>&1 || { tail -50 "${exp}/train.log"; exit 1; }
echo "${exp}"

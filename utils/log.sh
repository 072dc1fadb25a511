# log and die for recipe scripts: source it, then `log message` prints a
# time-stamped line naming the calling script, line and function, and
# `die message` prints an ERROR line to stderr and exits 1.
log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
die() {
  _died=1  # for an EXIT trap that reports failures die did not
  echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}) ERROR: $*" >&2
  exit 1
}

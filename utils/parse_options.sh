# Command-line option parser for recipe scripts.  Source it after the
# script's defaults are set:  . utils/parse_options.sh
#
#   --foo-bar VALUE  or  --foo-bar=VALUE   sets the existing variable foo_bar
#   --config FILE                          sources FILE first (it may be given
#                                          several times, in order)
#   --help, -h                             prints $help_message and exits 0
#
# An option for a variable the script never defined is an error, and so is a
# value other than true/false for a variable whose default is true or false.
# Parsing stops at the first argument that is not an option or at "--"; the
# remaining positional arguments are left in "$@".

# Config files go first so that explicit options on the command line win.
_po_i=1
while [ "${_po_i}" -le $# ]; do
  eval "_po_arg=\${${_po_i}}"
  case "${_po_arg}" in
    --config)
      eval "_po_file=\${$((_po_i + 1)):-}"
      if [ -z "${_po_file}" ]; then
        echo "$0: --config needs a file name" >&2; exit 1
      fi
      if [ ! -r "${_po_file}" ]; then
        echo "$0: config file '${_po_file}' does not exist or is not readable" >&2; exit 1
      fi
      . "${_po_file}" || { echo "$0: error sourcing config file '${_po_file}'" >&2; exit 1; }
      _po_i=$((_po_i + 2));;
    --config=*)
      _po_file="${_po_arg#--config=}"
      if [ ! -r "${_po_file}" ]; then
        echo "$0: config file '${_po_file}' does not exist or is not readable" >&2; exit 1
      fi
      . "${_po_file}" || { echo "$0: error sourcing config file '${_po_file}'" >&2; exit 1; }
      _po_i=$((_po_i + 1));;
    --) break;;
    --help|-h|--*=*) _po_i=$((_po_i + 1));;
    --*) _po_i=$((_po_i + 2));;
    *) break;;
  esac
done

while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      if [ -n "${help_message:-}" ]; then
        printf '%s\n' "${help_message}"
      else
        echo "$0: no help message for this script" >&2
      fi
      exit 0;;
    --) shift; break;;
    --config) shift 2; continue;;
    --config=*) shift; continue;;
    --*=*)
      _po_opt="${1%%=*}"; _po_val="${1#*=}"; shift;;
    --*)
      _po_opt="$1"
      if [ $# -lt 2 ]; then
        echo "$0: option ${_po_opt} needs a value" >&2; exit 1
      fi
      _po_val="$2"; shift 2;;
    *) break;;
  esac
  _po_name=$(printf '%s' "${_po_opt#--}" | tr '-' '_')
  case "${_po_name}" in
    ''|[0-9]*|*[!A-Za-z0-9_]*)
      echo "$0: invalid option ${_po_opt}" >&2; exit 1;;
  esac
  # A variable that was never set (not even to "") is not an option.
  if ! eval "[ -n \"\${${_po_name}+x}\" ]"; then
    echo "$0: unknown option ${_po_opt} (run '$0 --help' to list the options)" >&2; exit 1
  fi
  eval "_po_old=\${${_po_name}}"
  if [ "${_po_old}" = true ] || [ "${_po_old}" = false ]; then
    if [ "${_po_val}" != true ] && [ "${_po_val}" != false ]; then
      echo "$0: option ${_po_opt} is boolean: expected true or false, got '${_po_val}'" >&2; exit 1
    fi
  fi
  eval "${_po_name}=\"\${_po_val}\""
done
unset _po_i _po_arg _po_file _po_opt _po_val _po_name _po_old
true

# How jobs are run.  cmd_backend=local runs them on this machine
# (utils/run.pl); cmd_backend=slurm submits them with sbatch (utils/slurm.pl,
# configured in conf/slurm.conf).  Set it here or in the environment.
cmd_backend=${cmd_backend:-local}

case "${cmd_backend}" in
  local)
    export train_cmd="utils/run.pl"
    export cuda_cmd="utils/run.pl"
    export decode_cmd="utils/run.pl"
    ;;
  slurm)
    export train_cmd="utils/slurm.pl --config conf/slurm.conf"
    export cuda_cmd="utils/slurm.pl --config conf/slurm.conf"
    export decode_cmd="utils/slurm.pl --config conf/slurm.conf"
    ;;
  *)
    echo "cmd.sh: unknown cmd_backend '${cmd_backend}' (use local or slurm)" >&2
    return 1 2>/dev/null || exit 1
    ;;
esac

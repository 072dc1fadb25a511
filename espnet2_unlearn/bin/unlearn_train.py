"""Stage 5: make a trained ESPnet classification model forget utterances.

    python -m espnet2_unlearn.bin.unlearn_train --config conf/unlearn.yaml \\
        --source_model exp/ser_train_ser/train.loss.ave.pth --forget_list data/forget \\
        --forget_data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark \\
        --forget_data_path_and_name_and_type dump/fbank/train/text,label,text \\
        --output_dir exp/unlearn_forget
"""

import errno
import signal
import sys

import yaml

from espnet2_unlearn.tasks.unlearn import UnlearnTask
from espnet2_unlearn.unlearn.inputs import UnlearnError


def stop(signum, frame):
    # TERM (scancel, a time limit) ends the run as an error does: the runner
    # removes its temporary directory, which holds the forget ids.
    raise SystemExit(128 + signum)


def main(cmd=None):
    signal.signal(signal.SIGTERM, stop)
    try:
        UnlearnTask.main(cmd=cmd)
    except UnlearnError as e:
        sys.exit(f"unlearn_train: {e}")
    except yaml.YAMLError as e:  # a --config file (ESPnet reads them while parsing the options)
        sys.exit(f"unlearn_train: a config file is not valid YAML: {' '.join(str(e).split())}")
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        # the runner removed its temporary directory: nothing was published
        sys.exit(f"unlearn_train: cannot write {e.filename or 'the output'}: {e.strerror}; nothing was published")


if __name__ == "__main__":
    main()

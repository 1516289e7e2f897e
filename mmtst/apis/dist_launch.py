"""torchrun, ending a failed run with one line instead of a traceback.

``python -m mmtst.apis.dist_launch [torchrun options] tools/train.py ...``
takes torchrun's options and runs torchrun (``tools/dist_train.sh`` uses
it). When a rank fails, torchrun stops the others and raises a
``ChildFailedError`` whose report is a page of traceback; this prints one
line instead, naming the rank that failed first and how it ended (killed by
a signal, or its own error, printed above it) and the checkpoint
``--resume auto`` continues from (:mod:`mmtst.apis.dist_failures`), and
exits with 1 as torchrun does. A launcher stopped by a signal (Ctrl-C,
a scheduler's SIGTERM) stops its ranks, as torchrun does, and says so in
one line too. ``MMTST_DEBUG=1`` keeps torchrun's reports.
"""
import os
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import \
        ChildFailedError
    from torch.distributed.run import parse_args, run

    from mmtst.apis.dist_failures import (launch_failure_message, resume_hint,
                                          work_dir_of)
    args = parse_args(argv)
    work_dir = work_dir_of([args.training_script] +
                           list(args.training_script_args))
    try:
        run(args)
    except ChildFailedError as err:
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        message, code = launch_failure_message(err.failures, work_dir), 1
    except SignalException as err:
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        message = (f'the launcher was stopped by {err.sigval.name} and '
                   f'stopped the ranks; {resume_hint(work_dir)}.')
        code = 128 + int(err.sigval)
    else:
        return 0
    print('mmtst: error: ' + message, file=sys.stderr, flush=True)
    return code


if __name__ == '__main__':
    sys.exit(main())

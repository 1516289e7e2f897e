"""Train a model (a teacher, a student alone, or a distiller) from a config.

Same verbs and flags as mmpretrain / mmdet / mmseg's tools/train.py.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmtst.apis import load_config, prepare_config, run_friendly


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train with mmtst')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value / "auto") from '
        'the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size')
    parser.add_argument(
        '--allow-unsafe-checkpoint',
        action='store_true',
        help='allow loading checkpoints that need arbitrary unpickling '
        '(only for files you trust)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. '
        'model.teacher_ckpt=teacher.pth train_cfg.max_epochs=2)')
    parser.add_argument(
        '--launcher',
        default='none',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_runner(args) -> Runner:
    """The config with the command-line flags applied, built into a runner
    the way mmengine's tools build one.

    The runner type, mmtst's hooks and the distillers' DDP wrapper come from
    the config (mmtst's ``_base_`` runtime configs carry them), so that
    ``RUNNERS.build(cfg)`` elsewhere builds the same runner;
    :func:`mmtst.apis.prepare_config` adds them to configs that lack them.
    """
    cfg = load_config(args.config)
    cfg = prepare_config(
        cfg,
        args.config,
        work_dir=args.work_dir,
        resume=args.resume,
        amp=args.amp,
        no_validate=args.no_validate,
        auto_scale_lr=args.auto_scale_lr,
        allow_unsafe_checkpoint=args.allow_unsafe_checkpoint,
        launcher=args.launcher,
        cfg_options=args.cfg_options)
    return RUNNERS.build(cfg)


def main():
    build_runner(parse_args()).train()


if __name__ == '__main__':
    run_friendly(main)

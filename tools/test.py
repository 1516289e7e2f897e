"""Evaluate a checkpoint (a distiller's student by default, or its teacher).

Same verbs and flags as mmpretrain's tools/test.py.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.registry import RUNNERS

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from mmtst.apis import load_config, prepare_config, run_friendly


def parse_args():
    parser = argparse.ArgumentParser(description='Test with mmtst')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help="evaluate a distiller's teacher instead of its student")
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision inference')
    parser.add_argument(
        '--allow-unsafe-checkpoint',
        action='store_true',
        help='allow loading checkpoints that need arbitrary unpickling '
        '(only for files you trust)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        default='none',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config)
    cfg = prepare_config(
        cfg,
        args.config,
        work_dir=args.work_dir,
        allow_unsafe_checkpoint=args.allow_unsafe_checkpoint,
        launcher=args.launcher,
        cfg_options=args.cfg_options)
    is_distiller = str(cfg.model.get('type', '')).endswith('Distiller')
    if args.teacher and not is_distiller:
        sys.exit('mmtst: error: --teacher needs a distiller config')
    if is_distiller:
        # The checkpoint under test holds the whole distiller, teacher
        # included, so the teacher needs no file of its own. That is a fact
        # about this tool's input, not about the config (training with it
        # must still stop on a missing teacher_ckpt), so it stays here; a
        # runner built from the config alone also tests it, when its
        # teacher_ckpt exists (load_from then replaces those weights).
        cfg.model.allow_random_teacher = True
        cfg.model.teacher_ckpt = None
        if args.teacher:
            cfg.model.predict_model = 'teacher'
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    cfg.load_from = args.checkpoint
    if not osp.isfile(args.checkpoint):
        sys.exit(f'mmtst: error: checkpoint not found: {args.checkpoint}')
    runner = RUNNERS.build(cfg)  # as tools/train.py and mmengine's tools
    metrics = runner.test()
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    run_friendly(main)

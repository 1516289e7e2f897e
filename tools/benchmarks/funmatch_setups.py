"""FunMatch's four set-ups on Fashion-MNIST at a short and a long schedule.

Runs fixed teacher / independent noise / consistent teaching / function
matching (configs/funmatch/fmnist/) with tools/train.py for each schedule
and seed, then prints student top-1 and teacher-student agreement (mean
+/- std over seeds) as a markdown table. The paper predicts that the fixed
teacher saturates or overfits while function matching keeps improving
with a longer schedule; this reports what the runs show, either way.

Usage:
    python tools/benchmarks/funmatch_setups.py --teacher-ckpt T.pth \
        [--epochs 3 12] [--seeds 0 1] [--train-images 10000]
"""
import argparse
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from mmtst.benchmarks import mean_std, read_scalars

SETUPS = dict(
    fixed_teacher='fixed teacher',
    independent='independent noise',
    consistent='consistent teaching',
    function_matching='function matching')
# each set-up's config in configs/funmatch/fmnist/
CONFIGS = dict(
    fixed_teacher='funmatch-fixed-teacher_resnet20_resnet8_1xb128-4e_'
    'fmnist.py',
    independent='funmatch-independent_resnet20_resnet8_1xb128-4e_fmnist.py',
    consistent='funmatch-consistent_resnet20_resnet8_1xb128-4e_fmnist.py',
    function_matching='funmatch_resnet20_resnet8_1xb128-4e_fmnist.py')


def run(setup: str, epochs: int, seed: int, args) -> dict:
    work_dir = osp.join(args.work_dir, f'{setup}_{epochs}e', f'seed{seed}')
    result_file = osp.join(work_dir, 'result.json')
    if osp.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    config = osp.join(ROOT, 'configs/funmatch/fmnist', CONFIGS[setup])
    options = [
        f'model.teacher_ckpt={args.teacher_ckpt}',
        f'randomness.seed={seed}',
        f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.1.end={epochs}',
        f'train_dataloader.dataset.indices={args.train_images}',
        f'train_cfg.val_interval={epochs}',  # evaluate the final student only
    ]
    if setup == 'fixed_teacher':
        options.append(
            f'model.views.cache_dir={osp.join(args.work_dir, "cache")}')
    subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools/train.py'), config, '--work-dir', work_dir,
        '--cfg-options', *options
    ],
                   check=True,
                   cwd=ROOT)
    last = [r for r in read_scalars(work_dir) if 'accuracy/top1' in r][-1]
    result = dict(
        accuracy=last['accuracy/top1'], agreement=last['agreement/top1'])
    with open(result_file, 'w') as f:
        json.dump(result, f)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--teacher-ckpt', required=True)
    parser.add_argument('--work-dir', default='work_dirs/funmatch_setups')
    parser.add_argument('--epochs', type=int, nargs='+', default=[3, 12])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--setups', nargs='+', default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument(
        '--train-images',
        type=int,
        default=10000,
        help='first N training images (the full 60k is slow on CPU)')
    args = parser.parse_args()
    args.teacher_ckpt = osp.abspath(args.teacher_ckpt)
    args.work_dir = osp.abspath(args.work_dir)

    header = '| set-up | ' + ' | '.join(f'top-1 {e} ep | agreement {e} ep'
                                        for e in args.epochs) + ' |'
    rows = [header, '|' + '---|' * (1 + 2 * len(args.epochs))]
    for setup in args.setups:
        label = SETUPS[setup]
        cells = []
        for epochs in args.epochs:
            results = [run(setup, epochs, seed, args) for seed in args.seeds]
            for key in ('accuracy', 'agreement'):
                mean, std = mean_std([r[key] for r in results])
                cells.append(f'{mean:.2f} ± {std:.2f}')
        rows.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(rows)
    print(f'\nFunMatch set-ups on Fashion-MNIST ({args.train_images} training '
          f'images, seeds {args.seeds}, 10k test images):\n{table}')
    with open(osp.join(args.work_dir, 'table.md'), 'a') as f:
        f.write(table + '\n')


if __name__ == '__main__':
    main()

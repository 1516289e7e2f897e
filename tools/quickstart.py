"""The quick start: distil a Fashion-MNIST teacher into a smaller student.

Trains (or reuses) the teacher, then the student alone and the student with
each distillation method, all with tools/train.py, and prints the test-set
accuracy of each run (10k Fashion-MNIST test images) as a table.

Usage:
    python tools/quickstart.py [--methods student kd dkd tst] [--seed 0]
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmtst.benchmarks import export_teacher, last_accuracy

CONFIGS = dict(
    teacher='configs/quickstart/resnet20_1xb128-4e_fmnist.py',
    student='configs/quickstart/resnet8_1xb128-4e_fmnist.py',
    kd='configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py',
    dkd='configs/quickstart/dkd_resnet20_resnet8_1xb128-4e_fmnist.py',
    tst='configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
)
LABELS = dict(
    teacher='teacher ResNet-20',
    student='student ResNet-8 alone',
    kd='student + KD',
    dkd='student + DKD',
    tst='student + TST')


def train(name: str, work_root: str, seed: int, extra: list,
          force: bool) -> dict:
    """Run tools/train.py for one method unless its result is cached."""
    work_dir = osp.join(work_root, name)
    result_file = osp.join(work_dir, 'result.json')
    if osp.isfile(result_file) and not force:
        with open(result_file) as f:
            result = json.load(f)
        print(f'[quickstart] {name}: reusing {result_file}', flush=True)
        return result
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'),
        osp.join(ROOT, CONFIGS[name]), '--work-dir', work_dir, '--cfg-options',
        f'randomness.seed={seed}'
    ] + extra
    print('[quickstart] ' + ' '.join(cmd), flush=True)
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)
    result = dict(
        accuracy=last_accuracy(work_dir),
        seconds=round(time.time() - start, 1),
        seed=seed)
    with open(result_file, 'w') as f:
        json.dump(result, f)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['student', 'kd'],
        choices=['student', 'kd', 'dkd', 'tst'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force',
        action='store_true',
        help='retrain runs whose results are cached')
    args = parser.parse_args()
    work_root = osp.abspath(osp.join(ROOT, args.work_dir))
    teacher_ckpt = osp.join(work_root, 'fmnist_teacher_resnet20.pth')

    started = time.time()
    results = dict(teacher=train('teacher', work_root, args.seed, [], False))
    if not osp.isfile(teacher_ckpt):
        export_teacher(osp.join(work_root, 'teacher'), teacher_ckpt)
    for name in args.methods:
        results[name] = train(name, work_root, args.seed,
                              [f'model.teacher_ckpt={teacher_ckpt}']
                              if name != 'student' else [], args.force)

    rows = [
        f'| {"run":<24} | top-1 (10k test) | train time |',
        f'|{"-" * 26}|------------------|------------|'
    ]
    for name, result in results.items():
        rows.append(f'| {LABELS[name]:<24} | {result["accuracy"]:>15.2f}% '
                    f'| {result["seconds"]:>8.0f} s |')
    table = '\n'.join(rows)
    print(f'\nFashion-MNIST quick start (seed {args.seed}), total '
          f'{time.time() - started:.0f} s:\n{table}')
    with open(osp.join(work_root, 'table.md'), 'w') as f:
        f.write(table + '\n')


if __name__ == '__main__':
    main()

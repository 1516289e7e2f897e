"""The quick start: distil a Fashion-MNIST teacher into a smaller student.

Trains (or reuses) the teacher, then the student alone and the student with
each distillation method, all with tools/train.py, and prints the test-set
accuracy of each run (10k Fashion-MNIST test images) as a table.

Two presets run the same configs (configs/quickstart) at two sizes:

- ``quick`` (the default, sized to finish within 20 minutes of a bare
  clone on a slow 2-core day): the teacher for 2 of its 4 epochs on all
  60k training images, the students for their 4 epochs on the first 10k
  (a data-limited student, where distillation has most to give);
- ``full``: every run for its config's 4 epochs on all 60k images.

Usage:
    python tools/quickstart.py [--preset quick|full]
        [--methods student kd dkd tst] [--seed 0] [--cfg-options K=V ...]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional

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
# --cfg-options each preset adds to the configs; the teacher's cosine
# decay (param_scheduler.1) is cut to end with its shortened run.
PRESETS = dict(
    quick=dict(
        teacher=['train_cfg.max_epochs=2', 'param_scheduler.1.end=2'],
        students=['train_dataloader.dataset.indices=10000']),
    full=dict(teacher=[], students=[]),
)
DEFAULT_WORK_DIRS = dict(
    quick='work_dirs/quickstart', full='work_dirs/quickstart_full')
LABELS = dict(
    teacher='teacher ResNet-20',
    student='student ResNet-8 alone',
    kd='student + KD',
    dkd='student + DKD',
    tst='student + TST')


def cached_result(work_dir: str, settings: dict) -> Optional[dict]:
    """The result a finished run in ``work_dir`` recorded, if it was trained
    with ``settings`` (preset, seed and every --cfg-options value)."""
    result_file = osp.join(work_dir, 'result.json')
    if not osp.isfile(result_file):
        return None
    with open(result_file) as f:
        result = json.load(f)
    return result if result.get('settings') == settings else None


def set_aside(work_dir: str) -> None:
    """Keep what an earlier run left in ``work_dir`` under a new name, so a
    new run starts empty: its logs then hold one run only (the table reads
    the last accuracy logged), and nothing earlier is lost."""
    if not osp.isdir(work_dir):
        return
    kept = f'{work_dir}_replaced_{time.strftime("%Y%m%d_%H%M%S")}'
    os.rename(work_dir, kept)
    print(
        f'[quickstart] {work_dir} held another run (other settings, '
        f'unfinished, or --force): kept it as {kept}',
        flush=True)


def train(name: str, work_root: str, cfg_options: list, settings: dict,
          force: bool) -> dict:
    """Run tools/train.py for one method unless a run with the same
    ``settings`` finished in its work dir before.

    Returns:
        dict: ``accuracy`` (last top-1), ``seconds``, ``finished`` (when),
        ``settings`` and ``trained`` (False when the cached result was
        reused).
    """
    work_dir = osp.join(work_root, name)
    result = None if force else cached_result(work_dir, settings)
    if result is not None:
        print(
            f'[quickstart] {name}: reusing {work_dir}/result.json', flush=True)
        return dict(result, trained=False)
    set_aside(work_dir)
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'),
        osp.join(ROOT, CONFIGS[name]), '--work-dir', work_dir, '--cfg-options'
    ] + cfg_options
    print('[quickstart] ' + ' '.join(cmd), flush=True)
    start = time.time()
    returncode = subprocess.run(cmd, cwd=ROOT).returncode
    if returncode != 0:
        # tools/train.py has printed what went wrong; say which run it was
        # and stop, instead of a traceback from here
        sys.exit(f'[quickstart] error: the {name} run failed (exit code '
                 f'{returncode}); its logs are in {work_dir}')
    result = dict(
        accuracy=last_accuracy(work_dir),
        seconds=round(time.time() - start, 1),
        finished=time.strftime('%Y-%m-%d %H:%M:%S'),
        settings=settings)
    # written whole or not at all: a cut-off write must not leave a file
    # that reads as a finished run
    partial = osp.join(work_dir, 'result.json.part')
    with open(partial, 'w') as f:
        json.dump(result, f)
    os.replace(partial, osp.join(work_dir, 'result.json'))
    return dict(result, trained=True)


def run_options(name: str, preset: str, seed: int, teacher_ckpt: str,
                extra: list) -> list:
    """The --cfg-options of one run: the seed, the preset's sizes, the
    teacher's weights for a distilled student, then the user's ``extra``
    (last, so that they win)."""
    options = [f'randomness.seed={seed}']
    if name == 'teacher':
        options += PRESETS[preset]['teacher']
    else:
        options += PRESETS[preset]['students']
    if name not in ('teacher', 'student'):
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return options + list(extra)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--preset',
        default='quick',
        choices=sorted(PRESETS),
        help='quick (default): the teacher for 2 epochs, the students on '
        'the first 10k training images; full: every config as written '
        '(4 epochs on all 60k images)')
    parser.add_argument(
        '--work-dir',
        help='default: work_dirs/quickstart (quick) or '
        'work_dirs/quickstart_full (full)')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['student', 'kd'],
        choices=['student', 'kd', 'dkd', 'tst'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force',
        action='store_true',
        help='retrain the students whose results are cached (the teacher '
        'is retrained only when its settings change)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='added to every run\'s --cfg-options, after the preset\'s')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    work_root = osp.abspath(
        osp.join(ROOT, args.work_dir or DEFAULT_WORK_DIRS[args.preset]))
    teacher_ckpt = osp.join(work_root, 'fmnist_teacher_resnet20.pth')

    def run(name, force, **identity):
        options = run_options(name, args.preset, args.seed, teacher_ckpt,
                              args.cfg_options)
        settings = dict(preset=args.preset, cfg_options=options, **identity)
        return train(name, work_root, options, settings, force)

    started = time.time()
    results = dict(teacher=run('teacher', False))
    if results['teacher']['trained'] or not osp.isfile(teacher_ckpt):
        export_teacher(osp.join(work_root, 'teacher'), teacher_ckpt)
    for name in args.methods:
        # a student's cached result counts only with the teacher it had
        results[name] = run(
            name, args.force, teacher=results['teacher']['finished'])

    rows = [
        f'| {"run":<24} | top-1 (10k test) | train time |',
        f'|{"-" * 26}|------------------|------------|'
    ]
    for name, result in results.items():
        rows.append(f'| {LABELS[name]:<24} | {result["accuracy"]:>15.2f}% '
                    f'| {result["seconds"]:>8.0f} s |')
    table = '\n'.join(rows)
    print(f'\nFashion-MNIST quick start ({args.preset} preset, seed '
          f'{args.seed}), total {time.time() - started:.0f} s:\n{table}')
    with open(osp.join(work_root, 'table.md'), 'w') as f:
        f.write(table + '\n')
    return results


if __name__ == '__main__':
    main()

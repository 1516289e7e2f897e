"""Run a named set of benchmark configs with several seeds, resumably.

Each run trains with tools/train.py (or tools/dist_train.sh /
tools/slurm_train.sh) into <work_root>/<set>/<config>/seed<k> with
--cfg-options randomness.seed=k. Finished runs are skipped, unfinished ones
resumed with --resume. A set's teacher is trained first and its weights
exported (teacher.pth) and passed as model.teacher_ckpt. At the end the
results table is written next to the runs (results.md).

``--jobs N`` (or a set's ``jobs``) runs up to N trainings at once, each
with one thread (OMP_NUM_THREADS=1 unless the environment sets it) and its
console output in <work dir>/console.log; a run that needs a teacher waits
for the teacher's export, the others (e.g. the student alone) start
beside the teacher.

Usage:
    python tools/analysis/run_benchmark.py fmnist-mini [--seeds 3]
    python tools/analysis/run_benchmark.py fmnist-limited --jobs 2
    python tools/analysis/run_benchmark.py cifar100-paper --print-only \\
        --launcher dist --gpus 2
    python tools/analysis/run_benchmark.py imagenet-paper --print-only \\
        --launcher slurm --partition P --gpus 8
    python tools/analysis/run_benchmark.py --list

With ``--gpus N`` each GPU loads ``batch_size / N`` images, so the total
batch stays the one the config (the paper's recipe) names; a batch that N
GPUs cannot share evenly is refused with the fix.

The steps are built by ``mmtst/benchmarks/set_plan.py`` and run by
``mmtst/benchmarks/launch.py``.
"""
import argparse
import os.path as osp
import shlex
import subprocess
import sys
from fnmatch import fnmatch
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from mmtst.apis import run_friendly
from mmtst.benchmarks import DEFAULT_SETS, export_teacher, load_sets, set_root
from mmtst.benchmarks.launch import run_in_parallel, run_in_sequence
from mmtst.benchmarks.set_plan import (Step, config_name, display_path,
                                       finished_step, run_specs, run_state,
                                       seed_major, teacher_paths,
                                       train_command)


def teacher_steps(args, root: str, teacher: str, seed: int,
                  set_options: List[str]) -> List[Step]:
    """Train the teacher unless done, then export its weights."""
    work_dir, ckpt = teacher_paths(root, teacher, seed)
    if osp.isfile(ckpt):
        return [
            Step('skip',
                 f'# teacher weights exist: {display_path(ckpt, ROOT)}')
        ]
    steps = []
    state = run_state(work_dir)
    if state == 'finished':
        steps.append(finished_step(work_dir, ROOT))
    else:
        step = train_command(args, teacher, work_dir,
                             [f'randomness.seed={seed}'] + set_options +
                             (args.cfg_options or []), state == 'resume',
                             f'{args.set}-{config_name(teacher)}', ROOT)
        step.teacher = teacher  # the export of its weights waits for it
        steps.append(step)
    export = [
        'python', 'tools/analysis/run_benchmark.py', args.set,
        '--export-teachers'
    ]
    if args.work_root:
        export += ['--work-root', args.work_root]
    if args.sets != DEFAULT_SETS:
        export += ['--sets', args.sets]
    steps.append(
        Step(
            'export',
            ' '.join(shlex.quote(a) for a in export),
            export,
            teacher=teacher))
    return steps


def plan(args, set_cfg: dict, root: str) -> List[Step]:
    """Every step of the set, in order: teachers first, then each run and
    seed; finished runs become skips."""
    specs = [
        s for s in run_specs(set_cfg, args.seeds, ROOT)
        if not args.only or any(fnmatch(s.name, p) for p in args.only)
    ]
    teacher_seed = int(set_cfg.get('teacher_seed', 0))
    set_options = [str(o) for o in set_cfg.get('cfg_options') or []]
    teacher_options = set_options + [
        str(o) for o in set_cfg.get('teacher_cfg_options') or []
    ]
    steps: List[Step] = []
    for teacher in dict.fromkeys(s.teacher for s in specs if s.teacher):
        steps += teacher_steps(args, root, teacher, teacher_seed,
                               teacher_options)
    for seed, spec in seed_major(specs):
        work_dir = osp.join(root, spec.name, f'seed{seed}')
        state = run_state(work_dir)
        if state == 'finished':
            steps.append(finished_step(work_dir, ROOT))
            continue
        options = ([f'randomness.seed={seed}'] + set_options +
                   spec.cfg_options)
        if spec.teacher:
            ckpt = teacher_paths(root, spec.teacher, teacher_seed)[1]
            options.append(f'model.teacher_ckpt={display_path(ckpt, ROOT)}')
        options += args.cfg_options or []
        step = train_command(args, spec.config, work_dir, options,
                             state == 'resume',
                             f'{args.set}-{spec.name}-seed{seed}', ROOT)
        step.needs = spec.teacher
        steps.append(step)
    return steps


# -------------------------------------------------------------- execution
def export_teachers(set_cfg: dict,
                    root: str,
                    only: Optional[str] = None) -> None:
    """Export the weights of the set's teacher runs (or of ``only``).

    Raises:
        RuntimeError: A teacher run has not finished.
    """
    seed = int(set_cfg.get('teacher_seed', 0))
    teachers = dict.fromkeys(
        s.teacher for s in run_specs(set_cfg, 1, ROOT) if s.teacher)
    for teacher in [only] if only else teachers:
        work_dir, ckpt = teacher_paths(root, teacher, seed)
        if osp.isfile(ckpt):
            print(f'[benchmark] {display_path(ckpt, ROOT)} exists')
            continue
        if run_state(work_dir) != 'finished':
            raise RuntimeError(f'the teacher run {work_dir} has not finished'
                               ': train it first')
        export_teacher(work_dir, ckpt)
        print(f'[benchmark] exported {display_path(ckpt, ROOT)}')


def execute(args, steps: List[Step], set_cfg: dict, root: str) -> int:
    """Run the steps (in sequence, or ``args.jobs`` at a time); returns the
    number of failed runs."""
    jobs = getattr(args, 'jobs', None) or int(set_cfg.get('jobs', 1) or 1)

    def export(teacher: str) -> None:
        export_teachers(set_cfg, root, teacher)

    if jobs > 1:
        return run_in_parallel(steps, export, args.keep_going, jobs, ROOT)
    return run_in_sequence(steps, export, args.keep_going, ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('set', nargs='?', help='a set of the sets file')
    parser.add_argument('--sets', default=DEFAULT_SETS, help='sets file')
    parser.add_argument('--list', action='store_true', help='list the sets')
    parser.add_argument('--seeds', type=int, help='seeds 0..N-1 per run')
    parser.add_argument('--work-root', help="override the sets file's")
    parser.add_argument('--only', nargs='+', help='run names (globs) to keep')
    parser.add_argument(
        '--launcher', default='none', choices=['none', 'dist', 'slurm'])
    parser.add_argument('--gpus', type=int, default=8)
    parser.add_argument('--gpus-per-node', type=int, default=8)
    parser.add_argument('--partition', help='slurm partition')
    parser.add_argument('--amp', action='store_true', help='train with AMP')
    parser.add_argument(
        '--cfg-options', nargs='+', help='key=value overrides for every run')
    parser.add_argument(
        '--print-only',
        action='store_true',
        help='print the commands instead of running them')
    parser.add_argument(
        '--keep-going',
        action='store_true',
        help='go on with the next run after a failure')
    parser.add_argument(
        '--jobs',
        type=int,
        help="trainings at once, one thread each (default: "
        "the set's `jobs`, else 1)")
    parser.add_argument(
        '--export-teachers',
        action='store_true',
        help="only export the set's trained teachers")
    args = parser.parse_args(argv)
    if not args.list and not args.set:
        parser.error('name a set (or --list)')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sets = load_sets(args.sets)
    if args.list:
        for name, cfg in (sets.get('sets') or {}).items():
            print(
                f"{name}: {' '.join(str(cfg.get('description', '')).split())}")
        return 0
    root = set_root(args.set, sets, args.work_root, ROOT)
    set_cfg = sets['sets'][args.set]
    if args.export_teachers:
        export_teachers(set_cfg, root)
        return 0
    steps = plan(args, set_cfg, root)
    if args.print_only:
        print('\n'.join(step.text for step in steps))
        return 0
    failures = execute(args, steps, set_cfg, root)
    subprocess.run([
        sys.executable, 'tools/analysis/collect_results.py', root, '--out',
        root
    ],
                   cwd=ROOT)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(run_friendly(main))

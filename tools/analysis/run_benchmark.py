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
"""
import argparse
import glob
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from mmtst.apis import run_friendly
from mmtst.apis.results import (DEFAULT_SETS, export_teacher,
                                latest_checkpoint, load_sets, parse_run,
                                set_root)

TEACHER_FILE = 'teacher.pth'


@dataclass
class RunSpec:
    """One config of a set, to be trained with each of ``seeds``."""
    name: str
    config: str
    seeds: List[int]
    teacher: Optional[str] = None
    cfg_options: List[str] = field(default_factory=list)


@dataclass
class Step:
    """One line of the plan: a command to run, an export, or a skip."""
    kind: str  # 'train' | 'export' | 'skip'
    text: str  # what --print-only prints
    argv: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    teacher: Optional[str] = None  # export / teacher training: the teacher
    work_dir: Optional[str] = None  # train: the run's work dir
    needs: Optional[str] = None  # train: the teacher whose export it waits for

    def local_argv(self) -> List[str]:
        """``argv`` with ``python`` as this interpreter (the printed plan
        says ``python``; runs here use the same environment)."""
        return [sys.executable if a == 'python' else a for a in self.argv]


# ---------------------------------------------------------------- the set
def config_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def expand_configs(pattern: str) -> List[str]:
    """Repo-relative config paths a set entry names (a path or a glob);
    ``_base_*`` files are never runs."""
    if not glob.has_magic(pattern):
        if not osp.isfile(osp.join(ROOT, pattern)):
            raise FileNotFoundError(f'config {pattern} of the set does not '
                                    'exist')
        return [pattern]
    hits = sorted(
        osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, pattern)))
    hits = [p for p in hits if not osp.basename(p).startswith('_base_')]
    if not hits:
        print(
            f'[benchmark] warning: {pattern} matches no config yet',
            file=sys.stderr)
    return hits


def run_specs(set_cfg: dict, seeds: Optional[int]) -> List[RunSpec]:
    """The set's runs with globs expanded; ``seeds`` (from the command
    line) overrides the set's and the runs' own counts."""
    specs = []
    for entry in set_cfg.get('runs') or []:
        entry = {'config': entry} if isinstance(entry, str) else entry
        count = seeds or entry.get('seeds') or set_cfg.get('seeds') or 1
        for config in expand_configs(entry['config']):
            specs.append(
                RunSpec(
                    name=config_name(config) + entry.get('suffix', ''),
                    config=config,
                    seeds=list(range(count)),
                    teacher=entry.get('teacher'),
                    cfg_options=list(entry.get('cfg_options') or [])))
    return specs


# ------------------------------------------------------------- commands
def display_path(path: str) -> str:
    """Repo-relative when under the repo (commands run from its root)."""
    rel = osp.relpath(path, ROOT)
    return path if rel.startswith('..') else rel


def per_gpu_batch_option(config: str, options: List[str], gpus: int) -> str:
    """``train_dataloader.batch_size=B/gpus``: a config's batch is the total
    the recipe trains with, and every GPU of a distributed launch loads its
    own ``batch_size``, so without this the batch would grow ``gpus``-fold
    (and with it the effective learning-rate schedule)."""
    from mmengine.config import Config
    key = 'train_dataloader.batch_size='
    given = [o for o in options if o.startswith(key)]
    total = (
        int(given[-1][len(key):])
        if given else Config.fromfile(config).train_dataloader.batch_size)
    if total % gpus:
        raise SystemExit(
            f'run_benchmark: error: {display_path(config)} trains with a '
            f'batch of {total}, which {gpus} GPUs cannot share evenly; use '
            f'--gpus {max(d for d in range(1, gpus + 1) if total % d == 0)} '
            f'or set --cfg-options {key}<a multiple of {gpus}>')
    return f'{key}{total // gpus}'


def train_command(args, config: str, work_dir: str, options: List[str],
                  resume: bool, job_name: str) -> Step:
    """tools/train.py, dist_train.sh or slurm_train.sh for one run."""
    work_dir = display_path(work_dir)
    if args.launcher != 'none' and args.gpus > 1:
        options = options + [per_gpu_batch_option(config, options, args.gpus)]
    tail = ['--work-dir', work_dir] + (['--resume'] if resume else [])
    tail += ['--amp'] if args.amp else []
    tail += ['--cfg-options'] + options
    env = {}
    if args.launcher == 'none':
        argv = ['python', 'tools/train.py', config] + tail
    elif args.launcher == 'dist':
        argv = ['tools/dist_train.sh', config, str(args.gpus)] + tail
    else:  # slurm_train.sh takes the work dir as its 4th argument
        env = dict(
            GPUS=str(args.gpus),
            GPUS_PER_NODE=str(min(args.gpus, args.gpus_per_node)))
        argv = [
            'tools/slurm_train.sh', args.partition, job_name, config, work_dir
        ] + tail[2:]
    text = ' '.join([f'{k}={v}'
                     for k, v in env.items()] + [shlex.quote(a) for a in argv])
    return Step('train', text, argv, env, work_dir=work_dir)


def run_state(work_dir: str) -> str:
    """'finished', 'resume' (a checkpoint to go on from) or 'new'."""
    if not osp.isdir(work_dir):
        return 'new'
    if parse_run(work_dir).finished:
        return 'finished'
    return 'resume' if latest_checkpoint(work_dir) else 'new'


def progress_text(work_dir: str) -> str:
    run = parse_run(work_dir)
    return f'{run.progress}/{run.total} {run.unit}s'


def teacher_paths(root: str, teacher: str, seed: int):
    """(work dir, exported weights) of a set's teacher."""
    folder = osp.join(root, config_name(teacher))
    return osp.join(folder, f'seed{seed}'), osp.join(folder, TEACHER_FILE)


def teacher_steps(args, root: str, teacher: str, seed: int,
                  set_options: List[str]) -> List[Step]:
    """Train the teacher unless done, then export its weights."""
    work_dir, ckpt = teacher_paths(root, teacher, seed)
    if osp.isfile(ckpt):
        return [Step('skip', f'# teacher weights exist: {display_path(ckpt)}')]
    steps = []
    state = run_state(work_dir)
    if state == 'finished':
        steps.append(
            Step(
                'skip', '# skip (finished '
                f'{progress_text(work_dir)}): '
                f'{display_path(work_dir)}'))
    else:
        step = train_command(args, teacher, work_dir,
                             [f'randomness.seed={seed}'] + set_options +
                             (args.cfg_options or []), state == 'resume',
                             f'{args.set}-{config_name(teacher)}')
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
        s for s in run_specs(set_cfg, args.seeds)
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
    # seed-major: every run's first seed before any second seed, so that a
    # set cut short still compares every method
    order = sorted(((seed, index, spec) for index, spec in enumerate(specs)
                    for seed in spec.seeds),
                   key=lambda t: (t[0], t[1]))
    for seed, _, spec in order:
        work_dir = osp.join(root, spec.name, f'seed{seed}')
        state = run_state(work_dir)
        if state == 'finished':
            steps.append(
                Step(
                    'skip', f'# skip (finished '
                    f'{progress_text(work_dir)}): '
                    f'{display_path(work_dir)}'))
            continue
        options = ([f'randomness.seed={seed}'] + set_options +
                   spec.cfg_options)
        if spec.teacher:
            ckpt = teacher_paths(root, spec.teacher, teacher_seed)[1]
            options.append(f'model.teacher_ckpt={display_path(ckpt)}')
        options += args.cfg_options or []
        step = train_command(args, spec.config, work_dir, options,
                             state == 'resume',
                             f'{args.set}-{spec.name}-seed{seed}')
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
        s.teacher for s in run_specs(set_cfg, 1) if s.teacher)
    for teacher in [only] if only else teachers:
        work_dir, ckpt = teacher_paths(root, teacher, seed)
        if osp.isfile(ckpt):
            print(f'[benchmark] {display_path(ckpt)} exists')
            continue
        if run_state(work_dir) != 'finished':
            raise RuntimeError(f'the teacher run {work_dir} has not finished'
                               ': train it first')
        export_teacher(work_dir, ckpt)
        print(f'[benchmark] exported {display_path(ckpt)}')


def execute(args, steps: List[Step], set_cfg: dict, root: str) -> int:
    """Run the steps (in sequence, or ``args.jobs`` at a time); returns the
    number of failed runs."""
    jobs = getattr(args, 'jobs', None) or int(set_cfg.get('jobs', 1) or 1)
    if jobs > 1:
        return execute_parallel(args, steps, set_cfg, root, jobs)
    failures = 0
    for step in steps:
        print(f'[benchmark] {step.text}', flush=True)
        if step.kind == 'export':
            export_teachers(set_cfg, root, step.teacher)
        elif step.kind == 'train':
            done = subprocess.run(
                step.local_argv(), cwd=ROOT, env=dict(os.environ, **step.env))
            if done.returncode:
                failures += 1
                if not args.keep_going:
                    raise RuntimeError(f'{step.text} failed (exit '
                                       f'{done.returncode})')
    return failures


def _launch(step: Step) -> subprocess.Popen:
    """Start one training with one thread, its output in console.log."""
    env = dict(os.environ, **step.env)
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        env.setdefault(var, '1')
    work_dir = step.work_dir if osp.isabs(step.work_dir or '') else \
        osp.join(ROOT, step.work_dir or '.')
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'console.log'), 'ab') as log:
        return subprocess.Popen(
            step.local_argv(),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT)


def execute_parallel(args,
                     steps: List[Step],
                     set_cfg: dict,
                     root: str,
                     jobs: int,
                     poll_s: float = 0.5) -> int:
    """Run up to ``jobs`` trainings at once, in plan order as far as their
    dependencies allow: an export waits for the trainings before it (its
    teacher's), a run that needs a teacher waits for that teacher's export.
    After a failure no new run starts (unless --keep-going); the running
    ones finish. Returns the number of failed runs.

    Raises:
        RuntimeError: A run failed and --keep-going was not given.
    """
    pending = [s for s in steps if s.kind != 'skip']
    for step in steps:
        if step.kind == 'skip':
            print(f'[benchmark] {step.text}', flush=True)
    # the teachers whose weights exist already (their export step is absent)
    exporting = {s.teacher for s in pending if s.kind == 'export'}
    exported = set()
    running: Dict[subprocess.Popen, Step] = {}
    failures, failed_text = 0, None

    def ready(step: Step) -> bool:
        if step.kind == 'export':  # once its teacher's training has ended
            return not any(s.kind == 'train' and s.teacher == step.teacher
                           for s in pending + list(running.values()))
        return step.needs is None or (step.needs in exported
                                      or step.needs not in exporting)

    while pending or running:
        for proc, step in list(running.items()):
            code = proc.poll()
            if code is None:
                continue
            del running[proc]
            status = 'done' if code == 0 else f'FAILED (exit {code})'
            print(f'[benchmark] {status}: {step.text}', flush=True)
            if code:
                failures += 1
                failed_text = (
                    failed_text or f'{step.text} failed (exit {code})')
        if failures and not args.keep_going:
            pending = []
        started = True
        while started and pending:
            started = False
            for index, step in enumerate(pending):
                if step.kind == 'train' and len(running) >= jobs:
                    continue
                if not ready(step):
                    continue
                pending.pop(index)
                print(f'[benchmark] {step.text}', flush=True)
                if step.kind == 'export':
                    try:
                        export_teachers(set_cfg, root, step.teacher)
                        exported.add(step.teacher)
                    except RuntimeError as err:  # its teacher run failed
                        print(f'[benchmark] {err}', flush=True)
                        failed_text = failed_text or str(err)
                        failures += 1
                        pending = [
                            s for s in pending if s.needs != step.teacher
                        ]
                else:
                    running[_launch(step)] = step
                started = True
                break
        if running:
            time.sleep(poll_s)
    if failures and not args.keep_going:
        raise RuntimeError(failed_text)
    return failures


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

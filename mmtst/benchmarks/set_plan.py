"""The runs of a benchmark set as steps: which configs and seeds it trains,
where each run goes, what state it is in, and the training command of each
launcher (``tools/analysis/run_benchmark.py`` plans with these).

Paths in commands are relative to ``repo``, the folder the commands run
from (the tool's checkout), when they are under it.
"""
import glob
import os.path as osp
import shlex
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .runs import parse_run
from .workdirs import latest_checkpoint

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


def expand_configs(pattern: str, repo: str) -> List[str]:
    """Repo-relative config paths a set entry names (a path or a glob);
    ``_base_*`` files are never runs."""
    if not glob.has_magic(pattern):
        if not osp.isfile(osp.join(repo, pattern)):
            raise FileNotFoundError(f'config {pattern} of the set does not '
                                    'exist')
        return [pattern]
    hits = sorted(
        osp.relpath(p, repo) for p in glob.glob(osp.join(repo, pattern)))
    hits = [p for p in hits if not osp.basename(p).startswith('_base_')]
    if not hits:
        print(
            f'[benchmark] warning: {pattern} matches no config yet',
            file=sys.stderr)
    return hits


def run_specs(set_cfg: dict, seeds: Optional[int], repo: str) -> List[RunSpec]:
    """The set's runs with globs expanded; ``seeds`` (from the command
    line) overrides the set's and the runs' own counts."""
    specs = []
    for entry in set_cfg.get('runs') or []:
        entry = {'config': entry} if isinstance(entry, str) else entry
        count = seeds or entry.get('seeds') or set_cfg.get('seeds') or 1
        for config in expand_configs(entry['config'], repo):
            specs.append(
                RunSpec(
                    name=config_name(config) + entry.get('suffix', ''),
                    config=config,
                    seeds=list(range(count)),
                    teacher=entry.get('teacher'),
                    cfg_options=list(entry.get('cfg_options') or [])))
    return specs


def seed_major(specs: List[RunSpec]) -> List[Tuple[int, RunSpec]]:
    """``(seed, spec)`` with every run's first seed before any second
    seed, so that a set cut short still compares every method."""
    order = sorted(((seed, index, spec) for index, spec in enumerate(specs)
                    for seed in spec.seeds),
                   key=lambda t: (t[0], t[1]))
    return [(seed, spec) for seed, _, spec in order]


def teacher_paths(root: str, teacher: str, seed: int) -> Tuple[str, str]:
    """(work dir, exported weights) of a set's teacher."""
    folder = osp.join(root, config_name(teacher))
    return osp.join(folder, f'seed{seed}'), osp.join(folder, TEACHER_FILE)


# ------------------------------------------------------------- run state
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


def finished_step(work_dir: str, repo: str) -> Step:
    """The skip line of a finished run."""
    return Step(
        'skip', f'# skip (finished {progress_text(work_dir)}): '
        f'{display_path(work_dir, repo)}')


# -------------------------------------------------------------- commands
def display_path(path: str, repo: str) -> str:
    """Repo-relative when under the repo (commands run from its root)."""
    rel = osp.relpath(path, repo)
    return path if rel.startswith('..') else rel


def per_gpu_batch_option(config: str, options: List[str], gpus: int,
                         repo: str) -> str:
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
            f'run_benchmark: error: {display_path(config, repo)} trains with '
            f'a batch of {total}, which {gpus} GPUs cannot share evenly; use '
            f'--gpus {max(d for d in range(1, gpus + 1) if total % d == 0)} '
            f'or set --cfg-options {key}<a multiple of {gpus}>')
    return f'{key}{total // gpus}'


def train_command(args, config: str, work_dir: str, options: List[str],
                  resume: bool, job_name: str, repo: str) -> Step:
    """tools/train.py, dist_train.sh or slurm_train.sh for one run, as
    ``args`` (``launcher``, ``gpus``, ``gpus_per_node``, ``partition``,
    ``amp``) asks."""
    work_dir = display_path(work_dir, repo)
    if args.launcher != 'none' and args.gpus > 1:
        options = options + [
            per_gpu_batch_option(config, options, args.gpus, repo)
        ]
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

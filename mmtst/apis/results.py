"""Reading what mmengine wrote in work dirs, and the published numbers.

Shared by ``tools/quickstart.py``, ``tools/analysis/collect_results.py``,
``tools/analysis/run_benchmark.py`` and ``tools/analysis/plot_curves.py``.

What mmengine 0.10.7's ``Runner`` leaves in ``work_dir`` (one launch = one
timestamp folder; a resumed run adds another)::

    work_dir/<config_name>.py                    # Runner.dump_config()
    work_dir/last_checkpoint                     # path of the newest ckpt
    work_dir/epoch_<N>.pth | iter_<N>.pth
    work_dir/<ts>/<ts>.log                       # text log, with a config dump
    work_dir/<ts>/vis_data/config.py             # LocalVisBackend.add_config
    work_dir/<ts>/vis_data/scalars.json          # one JSON record per line

Training records carry ``epoch``/``iter``/``step``; validation records carry
the metrics and ``step`` = the epoch (the iteration for iteration-based
loops); TST's augmenter phases add ``augmenter.*`` records.
"""
import datetime
import glob
import json
import math
import os
import os.path as osp
import re
from dataclasses import asdict, dataclass, field, replace
from fnmatch import fnmatch
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_REFERENCE = osp.join(REPO_ROOT, 'benchmarks', 'reference.yaml')

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
SEED_DIR = re.compile(r'^seed(\d+)$')
CHECKPOINT_NAME = re.compile(r'(epoch|iter)_(\d+)\.pth$')
# Validation metrics mmtst's tasks log, and the factor that puts each on the
# 0..100 scale the papers print (mmdet logs COCO mAP as a fraction).
KNOWN_METRICS = {'accuracy/top1': 1.0, 'coco/bbox_mAP': 100.0, 'mIoU': 1.0}
# The order methods appear in tables.
METHOD_ORDER = ('teacher', 'student', 'alone', 'kd', 'dkd', 'kl', 'crd', 'cwd',
                'tst-neural', 'tst-analytic')
# Which published number a method is compared with ("paper" column).
PAPER_KEY = {
    'teacher': 'teacher',
    'student': 'student',
    'kd': 'kd',
    'dkd': 'dkd',
    'crd': 'crd',
    'cwd': 'cwd',
    'funmatch-function-matching': 'funmatch'
}
TST_METHODS = ('tst-neural', 'tst-analytic')


# ----------------------------------------------------------------- scalars
def scalar_files(work_dir: str) -> List[str]:
    """``<work_dir>/<ts>/vis_data/scalars.json`` files, oldest launch first
    (timestamps sort chronologically as strings)."""
    return sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def read_scalars(work_dir: str) -> List[dict]:
    """All records of all launches of a run, in launch order; a torn last
    line (a run killed mid-write) is skipped."""
    records = []
    for path in scalar_files(work_dir):
        with open(path) as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


def last_accuracy(work_dir: str, key: str = 'accuracy/top1') -> float:
    """The last validation ``key`` (top-1 by default) logged in ``work_dir``.

    Raises:
        RuntimeError: Nothing was logged under ``key``.
    """
    values = [r[key] for r in read_scalars(work_dir) if key in r]
    if not values:
        raise RuntimeError(f'no validation accuracy was logged in {work_dir}')
    return values[-1]


def metric_curve(records: Iterable[dict], key: str) -> List[Tuple[int, float]]:
    """``[(step, value), ...]`` of validation ``key``, sorted by step; when a
    resumed launch validates a step again, its (later) value wins."""
    curve: Dict[int, float] = {}
    for record in records:
        if key in record:
            curve[int(record.get('step', len(curve) + 1))] = float(record[key])
    return sorted(curve.items())


def detect_metric(records: Sequence[dict]) -> Optional[str]:
    """The first known validation metric present in ``records``."""
    for key in KNOWN_METRICS:
        if any(key in r for r in records):
            return key
    return None


# --------------------------------------------------------------- log files
VAL_LINE = re.compile(r'Epoch\(val\)\s*\[(\d+)\]\[\d+/\d+\]\s+(.*)$')
LOG_LINE = re.compile(r'^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} - ')


def log_files(work_dir: str) -> List[str]:
    """The text logs ``<work_dir>/<ts>/<ts>.log``, oldest first."""
    return sorted(
        p for p in glob.glob(osp.join(work_dir, '*', '*.log'))
        if TIMESTAMP.match(osp.basename(osp.dirname(p))))


def records_from_logs(work_dir: str) -> List[dict]:
    """Validation records rebuilt from ``Epoch(val) [N][i/n] key: value``
    log lines, for runs whose ``scalars.json`` is missing (epoch-based
    loops only: iteration-based val lines do not name the iteration)."""
    records = []
    for path in log_files(work_dir):
        with open(path, errors='replace') as f:
            for line in f:
                match = VAL_LINE.search(line.rstrip())
                if not match:
                    continue
                record = {'step': int(match.group(1))}
                for key, value in re.findall(r'(\S+): (-?[\d.]+(?:e-?\d+)?)',
                                             match.group(2)):
                    record[key] = float(value)
                records.append(record)
    return records


def config_text_from_log(path: str) -> Optional[str]:
    """The config mmengine prints after ``Config:`` at the start of a log."""
    lines, inside = [], False
    with open(path, errors='replace') as f:
        for line in f:
            if not inside:
                inside = line.rstrip().endswith(' - INFO - Config:')
                continue
            if LOG_LINE.match(line):
                break
            lines.append(line)
    return ''.join(lines) if lines else None


# ------------------------------------------------------------- checkpoints
def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, if it exists (a relative
    name is looked up in ``work_dir``, where mmengine writes them)."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        path = f.read().strip()
    for candidate in (path, osp.join(work_dir, osp.basename(path))):
        if candidate and osp.isfile(candidate):
            return candidate
    return None


def checkpoint_progress(work_dir: str) -> int:
    """Epochs (or iterations) completed according to the newest checkpoint
    name (``epoch_12.pth`` -> 12); 0 without one."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return 0
    with open(pointer) as f:
        match = CHECKPOINT_NAME.search(f.read().strip())
    return int(match.group(2)) if match else 0


def export_teacher(teacher_work_dir: str, out: str) -> str:
    """Keep only the teacher's weights (what ``model.teacher_ckpt`` loads)
    from the newest checkpoint of the run in ``teacher_work_dir``.

    Returns:
        str: ``out``.

    Raises:
        FileNotFoundError: The run has no checkpoint.
    """
    # torch only here, so that reading results stays light
    from mmtst.utils import (extract_state_dict, load_checkpoint_file,
                             save_atomically)
    checkpoint = latest_checkpoint(teacher_work_dir)
    if checkpoint is None:
        raise FileNotFoundError(
            f'no checkpoint in {teacher_work_dir} (no last_checkpoint): '
            'train the teacher first')
    state = extract_state_dict(load_checkpoint_file(checkpoint))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    save_atomically(dict(state_dict=state), out)
    return out


# -------------------------------------------------------------- run config
def is_run_dir(path: str) -> bool:
    """A work dir: it holds a timestamp folder with scalars or a log."""
    for child in glob.glob(osp.join(path, '*')):
        if TIMESTAMP.match(osp.basename(child)) and (
                osp.isfile(osp.join(child, 'vis_data', 'scalars.json'))
                or glob.glob(osp.join(child, '*.log'))):
            return True
    return False


def find_runs(roots: Iterable[str]) -> List[str]:
    """Every work dir under ``roots`` (a root may itself be one), sorted."""
    found = set()
    for root in roots:
        for dirpath, dirnames, _ in os.walk(root):
            if is_run_dir(dirpath):
                found.add(osp.normpath(dirpath))
            # a timestamp folder never holds another run
            dirnames[:] = [d for d in dirnames if not TIMESTAMP.match(d)]
    return sorted(found)


def dumped_config_name(work_dir: str) -> Optional[str]:
    """The config's name from the ``<config_name>.py`` that
    ``Runner.dump_config`` writes into the work dir."""
    dumps = sorted(glob.glob(osp.join(work_dir, '*.py')))
    return osp.splitext(osp.basename(dumps[0]))[0] if dumps else None


def config_name_of(work_dir: str) -> str:
    """The config a run was launched from: the dumped ``<name>.py``, else
    the ``<config>/seed<k>`` layout of run_benchmark, else the folder."""
    name = dumped_config_name(work_dir)
    if name:
        return name
    base = osp.basename(osp.normpath(work_dir))
    if SEED_DIR.match(base):
        return osp.basename(osp.dirname(osp.normpath(work_dir)))
    return base


def load_run_config(work_dir: str):
    """The config a run trained with (command-line overrides applied), or
    None: the newest ``<ts>/vis_data/config.py``, else the work dir's
    ``<config_name>.py``, else the dump in the newest text log."""
    from mmengine.config import Config
    candidates = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py')),
        reverse=True)
    candidates += sorted(glob.glob(osp.join(work_dir, '*.py')))
    for path in candidates:
        try:
            return Config.fromfile(path, import_custom_modules=False)
        except Exception:  # a torn dump: try the next source
            continue
    for path in reversed(log_files(work_dir)):
        text = config_text_from_log(path)
        if text:
            try:
                return Config.fromstring(text, '.py')
            except Exception:
                continue
    return None


def classify_method(model: dict) -> str:
    """The method a model config trains.

    ``'alone'`` for a plain model (a teacher or a student without
    distillation; the reference table tells which), ``'tst-neural'`` /
    ``'tst-analytic'`` for a distiller with a TST augmenter,
    ``'funmatch-<set-up>'`` for FunMatch's views (fixed-teacher,
    independent, consistent, function-matching), else the distillation
    loss: ``'kd'``, ``'dkd'``, ``'kl'`` (pure KL). Detection /
    segmentation distillers without an augmenter are logit KD (``'kd'``).
    Suffixes: ``+mixup`` (TST with FunMatch's mixup on top), ``+mimic``
    (FPN feature imitation of the detection distiller).
    """
    model_type = str(model.get('type', ''))
    if not model_type.endswith('Distiller'):
        return 'alone'
    views = model.get('views') or {}
    mixup = bool(views.get('mixup')) if views else False
    augmenter = model.get('augmenter')
    if augmenter:
        method = f"tst-{augmenter.get('backend', 'neural')}"
        method += '+mixup' if mixup else ''
    elif views:
        mode = str(views.get('mode', 'consistent'))
        method = ('funmatch-function-matching' if mode == 'consistent'
                  and mixup else 'funmatch-' + mode.replace('_', '-'))
    elif 'Classification' not in model_type:
        method = 'kd'
    else:
        loss = str((model.get('distill_loss') or {}).get('type', 'KDLoss'))
        method = {
            'KDLoss': 'kd',
            'DKDLoss': 'dkd',
            'KLDivergence': 'kl'
        }.get(loss.split('.')[-1],
              loss.split('.')[-1].lower())
    return method + '+mimic' if model.get('mimic') else method


# Loader transforms that add an augmentation policy on top of crop + flip,
# and the method suffix they give (``kd+randaugment``).
POLICY_TRANSFORMS = {
    'RandAugment': 'randaugment',
    'AutoAugment': 'autoaugment',
    'TrivialAugmentWide': 'trivialaugment'
}


def pipeline_suffix(cfg) -> str:
    """``'+randaugment'`` etc. when the training pipeline holds an
    augmentation policy (RandAugment with one op and a uniform magnitude
    is TrivialAugment), else ``''``."""
    try:
        pipeline = cfg['train_dataloader']['dataset']['pipeline'] or []
    except (KeyError, TypeError):
        return ''
    suffix = ''
    flat = []
    for transform in pipeline:  # wrappers (mmtst.GreyAsRGB) hold theirs
        while isinstance(transform, dict) and isinstance(
                transform.get('transform'), dict):
            flat.append(transform)
            transform = transform['transform']
        flat.append(transform)
    for transform in flat:
        kind = str((transform or {}).get('type', '')).split('.')[-1]
        name = POLICY_TRANSFORMS.get(kind)
        if name == 'randaugment' and transform.get('num_policies') == 1 \
                and str(transform.get('magnitude_std')) == 'inf':
            name = 'trivialaugment'
        suffix += f'+{name}' if name else ''
    return suffix


def _train_length(cfg) -> Tuple[Optional[int], str]:
    """(max epochs or iterations, 'epoch' | 'iter') from ``train_cfg``."""
    train_cfg = (cfg.get('train_cfg') or {}) if cfg is not None else {}
    if 'max_iters' in train_cfg or 'Iter' in str(train_cfg.get('type', '')) \
            or train_cfg.get('by_epoch') is False:
        return train_cfg.get('max_iters'), 'iter'
    return train_cfg.get('max_epochs'), 'epoch'


LOG_TIME = re.compile(r'^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) - ')


def wall_seconds(work_dir: str) -> Optional[float]:
    """Wall-clock seconds of a run: for each launch (one text log), its
    last logged time minus its first, summed over launches (so time lost
    between a kill and a resume is not counted). None without logs."""
    total, seen = 0.0, False
    for path in log_files(work_dir):
        first = last = None
        with open(path, errors='replace') as f:
            for line in f:
                match = LOG_TIME.match(line)
                if match:
                    stamp = datetime.datetime.strptime(
                        match.group(1), '%Y/%m/%d %H:%M:%S')
                    first = first or stamp
                    last = stamp
        if first is not None:
            total += (last - first).total_seconds()
            seen = True
    return total if seen else None


# ------------------------------------------------------------------- runs
@dataclass
class RunResult:
    """One run (one work dir) as read back from disk.

    ``final`` / ``best`` are on the 0..100 scale; ``progress`` counts
    completed epochs (iterations for iteration-based loops) of ``total``.
    """
    work_dir: str
    config_name: str
    config_path: Optional[str] = None
    method: str = 'unknown'
    seed: Optional[int] = None
    metric: Optional[str] = None
    final: Optional[float] = None
    best: Optional[float] = None
    progress: int = 0
    total: Optional[int] = None
    unit: str = 'epoch'
    finished: bool = False
    pair: Optional[str] = None
    curve: List[Tuple[int, float]] = field(default_factory=list)
    wall_s: Optional[float] = None
    settings: Dict[str, str] = field(default_factory=dict)
    trained: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def experiment_settings(cfg, total: Optional[int],
                        unit: str) -> Dict[str, str]:
    """What makes two runs of one config different experiments: the
    training length, the batch and the training subset (``indices``,
    ``per_class``, ``subset_seed``); the seed is not one of them."""
    settings = {}
    if total is not None:
        settings[f'{unit}s'] = str(total)
    loader = (cfg.get('train_dataloader') or {}) if cfg is not None else {}
    if loader.get('batch_size') is not None:
        settings['batch'] = str(loader['batch_size'])
    dataset = loader.get('dataset') or {}
    for key in ('indices', 'per_class', 'subset_seed'):
        value = dataset.get(key)
        if value is not None:
            settings[key] = (f'{len(value)} listed' if isinstance(
                value, (list, tuple)) else str(value))
    return settings


def trained_at_all(work_dir: str, records: Sequence[dict]) -> bool:
    """Whether a work dir is a training run: it logged a training record or
    a ``(train)`` log line, or wrote a training checkpoint. A tools/test.py
    work dir, or a launch that failed before its first iteration, has none.
    (mmengine skips the train record of an epoch's last iterations short
    of the log interval, so a short run may show its checkpoint only.)"""
    if any('loss' in r or 'lr' in r for r in records):
        return True
    if checkpoint_progress(work_dir) > 0:
        return True
    for path in log_files(work_dir):
        with open(path, errors='replace') as f:
            if any('Epoch(train)' in line or 'Iter(train)' in line
                   for line in f):
                return True
    return False


def find_config_file(name: str, repo_root: str = REPO_ROOT) -> Optional[str]:
    """``configs/**/<name>.py`` relative to the repo, if exactly one."""
    hits = glob.glob(
        osp.join(repo_root, 'configs', '**', f'{name}.py'), recursive=True)
    return osp.relpath(hits[0], repo_root) if len(hits) == 1 else None


def _seed_of(cfg, work_dir: str) -> Optional[int]:
    seed = ((cfg.get('randomness') or {}).get('seed')
            if cfg is not None else None)
    if seed is None:  # e.g. no dump yet: the run_benchmark layout says it
        match = SEED_DIR.match(osp.basename(osp.normpath(work_dir)))
        seed = int(match.group(1)) if match else None
    return None if seed is None else int(seed)


def parse_run(work_dir: str,
              metric: Optional[str] = None,
              repo_root: str = REPO_ROOT) -> RunResult:
    """Read one run: config, method, seed, validation curve, progress.

    Args:
        work_dir: The run's work dir.
        metric: Validation key to read. Defaults to the first of
            :data:`KNOWN_METRICS` that was logged.
        repo_root: Where ``configs/`` lives, to name the config file.
    """
    cfg = load_run_config(work_dir)
    name = config_name_of(work_dir)
    records = read_scalars(work_dir) or records_from_logs(work_dir)
    metric = metric or detect_metric(records)
    scale = KNOWN_METRICS.get(metric, 1.0)
    curve = ([(s, v * scale)
              for s, v in metric_curve(records, metric)] if metric else [])
    total, unit = _train_length(cfg)
    progress = max([s for s, _ in curve] + [checkpoint_progress(work_dir)])
    model = (cfg.get('model') or {}) if cfg is not None else {}
    return RunResult(
        work_dir=work_dir,
        config_name=name,
        config_path=find_config_file(name, repo_root),
        method=(classify_method(model) +
                pipeline_suffix(cfg) if model else 'unknown'),
        seed=_seed_of(cfg, work_dir),
        metric=metric,
        final=curve[-1][1] if curve else None,
        best=max(v for _, v in curve) if curve else None,
        progress=progress,
        total=total,
        unit=unit,
        finished=total is not None and progress >= total,
        curve=curve,
        wall_s=wall_seconds(work_dir),
        settings=experiment_settings(cfg, total, unit),
        trained=trained_at_all(work_dir, records))


# -------------------------------------------------------------- reference
def load_reference(path: str = DEFAULT_REFERENCE) -> dict:
    """``benchmarks/reference.yaml`` as a dict (``sources``, ``pairs``)."""
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def _matches(config_path: Optional[str], config_name: str,
             pattern: str) -> bool:
    """Match a run's config against a glob of the reference table: on the
    repo path when the config file is known, else on the file name."""
    if config_path and fnmatch(config_path, pattern):
        return True
    return config_path is None and fnmatch(f'{config_name}.py',
                                           osp.basename(pattern))


def match_pairs(run: RunResult, reference: dict) -> List[Tuple[str, str]]:
    """[(pair id, method), ...] of every pair whose config globs match.

    A plain model ('alone') becomes 'teacher' or 'student' where it is
    listed under that key; it may belong to several pairs (one teacher
    serves several students), a distillation run normally to one.
    """
    matches = []
    for pair_id, entry in (reference.get('pairs') or {}).items():
        for role, patterns in (entry.get('configs') or {}).items():
            if any(
                    _matches(run.config_path, run.config_name, p)
                    for p in patterns or []):
                method = run.method
                if method == 'alone' and role in ('teacher', 'student'):
                    method = role
                matches.append((pair_id, method))
                break
    return matches


def is_stand_in(run: RunResult, entry: Optional[dict]) -> bool:
    """Whether the run's config is listed as a stand-in that cannot be
    compared with the pair's published numbers (``not_comparable``)."""
    return any(
        _matches(run.config_path, run.config_name, p)
        for p in (entry or {}).get('not_comparable') or [])


def paper_number(entry: Optional[dict], method: str) -> Optional[float]:
    """The published number a method is compared with, or None (for TST:
    ``tst_paper``, null until someone fills it in from the paper)."""
    if not entry:
        return None
    if method.split('+')[0] in TST_METHODS:
        return entry.get('tst_paper')
    number = (entry.get('numbers') or {}).get(PAPER_KEY.get(method, ''))
    return number.get('value') if isinstance(number, dict) else None


# ---------------------------------------------------------------- groups
def mean_std(values: Sequence[float]) -> Tuple[Optional[float], float]:
    """Mean and sample standard deviation (n - 1; 0.0 for one value)."""
    if not values:
        return None, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean)**2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


# Two-sided 95% quantiles of Student's t, t_{0.975, df}, df = 1..30.
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile_975(df: int) -> float:
    """t_{0.975, df}: the table up to 30 degrees of freedom, beyond it the
    Cornish-Fisher expansion around the normal quantile (error < 1e-3)."""
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}')
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959964
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) /
            (96 * df**2))


@dataclass
class PairedDifference:
    """``a - b`` over the seeds both have: mean, the 95% t-interval's
    half-width (None for one seed) and the seeds used."""
    mean: float
    half_width: Optional[float]
    seeds: List[int]

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def low(self) -> Optional[float]:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> Optional[float]:
        return None if self.half_width is None else self.mean + self.half_width

    def to_dict(self) -> dict:
        return dict(
            mean=self.mean,
            half_width=self.half_width,
            low=self.low,
            high=self.high,
            n=self.n,
            seeds=self.seeds)


def paired_difference(a: Dict[int, float],
                      b: Dict[int, float]) -> Optional[PairedDifference]:
    """The paired difference ``a[seed] - b[seed]`` over matching seeds, with
    a two-sided 95% t-interval (mean ± t_{0.975, n-1} * sd / sqrt(n)).
    None when no seed matches."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [a[s] - b[s] for s in seeds]
    mean, sd = mean_std(diffs)
    half = (
        t_quantile_975(len(diffs) - 1) * sd /
        math.sqrt(len(diffs)) if len(diffs) > 1 else None)
    return PairedDifference(mean, half, seeds)


@dataclass
class Group:
    """The seeds of one experiment: (pair, method, config, settings)."""
    pair: Optional[str]
    method: str
    config_name: str
    runs: List[RunResult]
    include_unfinished: bool = False
    settings: Dict[str, str] = field(default_factory=dict)

    @property
    def counted(self) -> List[RunResult]:
        """The runs the statistics use: finished ones (all, if asked),
        with a logged metric."""
        return [
            r for r in self.runs
            if r.final is not None and (r.finished or self.include_unfinished)
        ]

    @property
    def unfinished(self) -> List[RunResult]:
        return [r for r in self.runs if not r.finished]

    def by_seed(self, which: str = 'final') -> Dict[int, float]:
        """``{seed: value}`` of the counted runs that have a seed."""
        return {
            r.seed: getattr(r, which)
            for r in self.counted
            if r.seed is not None and getattr(r, which) is not None
        }

    def stats(self,
              which: str = 'final') -> Tuple[Optional[float], float, int]:
        """(mean, std, n) of ``'final'``, ``'best'`` or ``'wall_s'`` over
        counted runs (that have it)."""
        values = [
            getattr(r, which) for r in self.counted
            if getattr(r, which) is not None
        ]
        mean, std = mean_std(values)
        return mean, std, len(values)


def group_runs(runs: Iterable[RunResult],
               reference: Optional[dict] = None,
               include_unfinished: bool = False) -> List[Group]:
    """Match runs to the reference and group their seeds by (pair, method,
    config, effective settings), ordered as the reference lists pairs, then
    by method. Runs that never trained (tools/test.py work dirs, launches
    that failed before their first iteration) are left out. Groups of one
    config with different settings (a 1-epoch and a 3-epoch run) are kept
    apart, their config names suffixed with the settings that differ."""
    groups: Dict[tuple, Group] = {}
    for run in runs:
        if not run.trained:
            continue
        matches = match_pairs(run, reference) if reference else []
        for pair, method in matches or [(None, run.method)]:
            copy = replace(run, pair=pair, method=method)
            key = (pair, method, run.config_name,
                   tuple(sorted(run.settings.items())))
            groups.setdefault(
                key,
                Group(pair, method, run.config_name, [], include_unfinished,
                      dict(run.settings))).runs.append(copy)
    _name_by_settings(list(groups.values()))
    pair_order = list((reference or {}).get('pairs') or {})

    def order(group: Group):
        pair_rank = (
            pair_order.index(group.pair)
            if group.pair in pair_order else len(pair_order))
        base = group.method.split('+')[0]
        method_rank = (
            METHOD_ORDER.index(base)
            if base in METHOD_ORDER else len(METHOD_ORDER))
        return (pair_rank, group.pair
                or '', method_rank, group.method, group.config_name)

    for group in groups.values():
        group.runs.sort(
            key=lambda r: (r.seed is None, r.seed or 0, r.work_dir))
    return sorted(groups.values(), key=order)


def settings_difference(a: Dict[str, str], b: Dict[str, str]) -> str:
    """``'epochs 1 vs 3, indices 256 vs -'``: the settings where ``a`` and
    ``b`` differ; empty when they are the same experiment."""
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ', '.join(f'{k} {a.get(k, "-")} vs {b.get(k, "-")}' for k in keys)


def _name_by_settings(groups: List[Group]) -> None:
    """Suffix the config names of groups that share one config but not
    its settings with the settings that tell them apart."""
    by_name: Dict[tuple, List[Group]] = {}
    for group in groups:
        by_name.setdefault((group.pair, group.method, group.config_name),
                           []).append(group)
    for same in by_name.values():
        if len(same) < 2:
            continue
        keys = sorted({
            k
            for g in same
            for k in g.settings if len({h.settings.get(k)
                                        for h in same}) > 1
        })
        for group in same:
            group.config_name += ' [' + ', '.join(
                f'{k}={group.settings.get(k, "-")}' for k in keys) + ']'


# ------------------------------------------------------------ benchmark sets
DEFAULT_SETS = osp.join(REPO_ROOT, 'benchmarks', 'sets.yaml')


def load_sets(path: str = DEFAULT_SETS) -> dict:
    """``benchmarks/sets.yaml`` as a dict (``work_root``, ``sets``)."""
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def set_root(set_name: str,
             sets: dict,
             work_root: Optional[str] = None,
             repo_root: str = REPO_ROOT) -> str:
    """``<work_root>/<set>``, absolute (a relative work root is the repo's).

    Raises:
        KeyError: No such set.
    """
    if set_name not in (sets.get('sets') or {}):
        raise KeyError(f'no set {set_name!r} in the sets file; known: '
                       f"{sorted(sets.get('sets') or {})}")
    root = work_root or sets.get('work_root') or 'work_dirs/benchmark'
    return osp.join(
        root if osp.isabs(root) else osp.join(repo_root, root), set_name)

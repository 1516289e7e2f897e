"""One run as a record: the method its config trains, the settings that
make it an experiment, its validation curve and how far it got
(:func:`parse_run`)."""
import glob
import hashlib
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .sets import REPO_ROOT
from .workdirs import (KNOWN_METRICS, SEED_DIR, checkpoint_progress,
                       config_name_of, detect_metric, load_run_config,
                       log_files, metric_curve, read_scalars,
                       records_from_logs, wall_seconds)


# ----------------------------------------------------------------- methods
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


# -------------------------------------------------------------------- runs
def _train_length(cfg) -> Tuple[Optional[int], str]:
    """(max epochs or iterations, 'epoch' | 'iter') from ``train_cfg``."""
    train_cfg = (cfg.get('train_cfg') or {}) if cfg is not None else {}
    if 'max_iters' in train_cfg or 'Iter' in str(train_cfg.get('type', '')) \
            or train_cfg.get('by_epoch') is False:
        return train_cfg.get('max_iters'), 'iter'
    return train_cfg.get('max_epochs'), 'epoch'


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


# (real path, size, mtime) -> digest: a set's runs share one teacher file
_TEACHER_DIGESTS: Dict[Tuple[str, int, int], str] = {}


def teacher_file(cfg, work_dir: str) -> Optional[str]:
    """The teacher weights file a run loaded (``model.teacher_ckpt``), if it
    still exists. A relative path is looked up from the work dir upwards:
    run_benchmark and the quick start launch from the repository root, so
    the path is relative to an ancestor of the work dir."""
    model = (cfg.get('model') or {}) if cfg is not None else {}
    path = model.get('teacher_ckpt') if isinstance(model, dict) else None
    if not isinstance(path, str) or not path:
        return None
    if osp.isabs(path):
        return path if osp.isfile(path) else None
    folder = osp.abspath(work_dir)
    while True:
        candidate = osp.join(folder, path)
        if osp.isfile(candidate):
            return candidate
        parent = osp.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def teacher_digest(path: str) -> str:
    """The first 12 hex digits of the sha256 of a teacher's weights file
    (read once per file and modification)."""
    real = osp.realpath(path)
    stat = os.stat(real)
    key = (real, stat.st_size, stat.st_mtime_ns)
    if key not in _TEACHER_DIGESTS:
        sha = hashlib.sha256()
        with open(real, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                sha.update(block)
        _TEACHER_DIGESTS[key] = sha.hexdigest()[:12]
    return _TEACHER_DIGESTS[key]


def run_settings(cfg, work_dir: str, total: Optional[int],
                 unit: str) -> Dict[str, str]:
    """:func:`experiment_settings`, plus ``teacher``: the digest of the
    teacher's weights for a distilled run whose teacher file still exists.
    Runs of one config distilled from two teachers are two experiments
    (on fmnist-limited-n25 a teacher retrained with the same config and
    seed moved KD by up to 3.4 points a seed), even when their work dirs
    come from different worktrees; the same weights under two paths are
    one teacher."""
    settings = experiment_settings(cfg, total, unit)
    path = teacher_file(cfg, work_dir)
    if path is not None:
        settings['teacher'] = teacher_digest(path)
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
        settings=run_settings(cfg, work_dir, total, unit),
        trained=trained_at_all(work_dir, records))

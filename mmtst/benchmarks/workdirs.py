"""Reading what mmengine wrote in a work dir: scalars, text logs,
checkpoints and the config a run trained with.

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
import os
import os.path as osp
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
SEED_DIR = re.compile(r'^seed(\d+)$')
CHECKPOINT_NAME = re.compile(r'(epoch|iter)_(\d+)\.pth$')
# Validation metrics mmtst's tasks log, and the factor that puts each on the
# 0..100 scale the papers print (mmdet logs COCO mAP as a fraction).
KNOWN_METRICS = {'accuracy/top1': 1.0, 'coco/bbox_mAP': 100.0, 'mIoU': 1.0}


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


# ---------------------------------------------------- run dirs and configs
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


# ------------------------------------------------------------- wall clock
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

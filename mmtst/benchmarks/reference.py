"""Runs against the published numbers of ``benchmarks/reference.yaml``:
which pair a run belongs to, and what the paper reports for its method."""
import os.path as osp
from fnmatch import fnmatch
from typing import List, Optional, Tuple

from .runs import RunResult

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

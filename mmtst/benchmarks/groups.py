"""The seeds of one experiment as a group: runs matched to their pair of
the reference table and grouped by (pair, method, config, settings), in
table order."""
import json
import os.path as osp
from dataclasses import dataclass, field, fields, replace
from typing import Dict, Iterable, List, Optional, Tuple

from .reference import match_pairs
from .runs import RunResult, parse_run
from .stats import mean_std
from .workdirs import find_runs

# The order methods appear in tables.
METHOD_ORDER = ('teacher', 'student', 'alone', 'kd', 'dkd', 'kl', 'crd', 'cwd',
                'tst-neural', 'tst-analytic')


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


def recorded_runs(path: str) -> List[RunResult]:
    """The runs a ``results.json`` of tools/analysis/collect_results.py
    recorded, as they were read then: new runs can be paired with seeds
    whose work dirs are gone (another machine, a removed worktree)."""
    try:
        with open(path) as f:
            groups = json.load(f)['groups']
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f'{path}: not a results.json written by collect_results.py '
            f'--out ({error}); pass work dirs or such a file') from None
    names = {f.name for f in fields(RunResult)}
    runs: Dict[str, RunResult] = {}
    for group in groups:
        for run in group.get('runs') or []:
            # a run matched to several pairs is listed once per pair
            kept = {k: v for k, v in run.items() if k in names}
            kept['curve'] = [tuple(p) for p in kept.get('curve') or []]
            runs[osp.normpath(run['work_dir'])] = RunResult(**kept)
    return list(runs.values())


def load_groups(roots: Iterable[str],
                reference: Optional[dict] = None,
                include_unfinished: bool = False,
                metric: Optional[str] = None) -> List[Group]:
    """Every run under ``roots``, read (:func:`parse_run`) and grouped
    (:func:`group_runs`). A root that is a ``.json`` file adds the runs it
    recorded (:func:`recorded_runs`); a work dir found on disk wins over
    its record."""
    roots = list(roots)
    files = [r for r in roots if r.endswith('.json')]
    found = {
        osp.normpath(work_dir): parse_run(work_dir, metric)
        for work_dir in find_runs([r for r in roots if r not in files])
    }
    recorded = [
        run for path in files for run in recorded_runs(path)
        if osp.normpath(run.work_dir) not in found
    ]
    return group_runs(recorded + list(found.values()), reference,
                      include_unfinished)

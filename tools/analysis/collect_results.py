"""Collect benchmark runs from work dirs into a table against the papers.

Finds every mmengine run under the given roots, reads its config (method,
seed, length) and validation curve, groups the seeds of each (pair, method,
config), and compares the mean with benchmarks/reference.yaml.

Runs of one config with different settings (length, batch, training
subset, or teacher: the digest of the weights file ``model.teacher_ckpt``
names, where it still exists) are separate rows, their config names
suffixed with what differs; each row's Δ to KD pairs it with the KD run
with its settings where there is one (runs recorded in a results.json
before teachers were recorded carry no teacher).

Usage:
    python tools/analysis/collect_results.py WORK_DIR [WORK_DIR ...]
        [--set fmnist-mini] [--json] [--out DIR] [--include-unfinished]

Unfinished runs (fewer completed epochs than train_cfg.max_epochs) are
flagged and left out of the statistics unless --include-unfinished.
"""
import argparse
import json
import os
import os.path as osp
import sys
from fnmatch import fnmatch
from typing import Dict, List, Optional, Tuple

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.benchmarks import (DEFAULT_REFERENCE, Group, PairedDifference,
                              add_set_arguments, is_stand_in, load_groups,
                              load_reference, paired_difference, paper_number,
                              resolve_roots, settings_difference)

# Anchors shown for every row, in this order, with their labels.
ANCHORS = (('teacher', 'T'), ('student', 'S'), ('kd', 'KD'), ('dkd', 'DKD'),
           ('crd', 'CRD'), ('cwd', 'CWD'), ('funmatch', 'FunMatch'),
           ('funmatch_160px', 'FunMatch@160'))
TST_FOOTNOTE = ('† tst_paper is null in benchmarks/reference.yaml: the TST '
                "paper's numbers have not been filled in by someone who has "
                'the paper.')


def _fmt(value: Optional[float], signed: bool = False, digits: int = 2) -> str:
    if value is None:
        return '—'
    return f'{value:+.{digits}f}' if signed else f'{value:.{digits}f}'


def paired_text(paired: Optional[dict]) -> str:
    """``+0.45 [+0.12, +0.78] (n=5)``; without an interval for one seed."""
    if not paired:
        return '—'
    return (PairedDifference.from_dict(paired).text() + f" (n={paired['n']})")


def _fmt_stats(mean: Optional[float], std: float, n: int) -> str:
    return '—' if mean is None else f'{mean:.2f} ± {std:.2f} (n={n})'


def anchors_text(entry: Optional[dict]) -> str:
    """``T 79.42 · S 72.50 · KD 73.33 ...`` from the pair's numbers."""
    numbers = (entry or {}).get('numbers') or {}
    parts = [
        f'{label} {numbers[key]["value"]:.2f}' for key, label in ANCHORS
        if isinstance(numbers.get(key), dict)
    ]
    return ' · '.join(parts) or '—'


# A KD group whose config name holds this is KD on TST's recipe (no
# augmenter): the control TST rows are compared with where it ran.
TST_RECIPE_KD = 'tstrecipe'


def kd_groups(groups: List[Group]) -> Dict[str, Dict[str, List[Group]]]:
    """Per pair, our KD groups with counted runs, in two slots: ``'plain'``
    and, where it ran, ``'tst_recipe'`` (KD with TST's recipe); a slot can
    hold several groups (one per experiment: e.g. one per teacher)."""
    found: Dict[str, Dict[str, List[Group]]] = {}
    for group in groups:
        if group.method != 'kd' or not group.stats()[2]:
            continue
        slot = ('tst_recipe'
                if TST_RECIPE_KD in group.config_name else 'plain')
        found.setdefault(group.pair, {}).setdefault(slot, []).append(group)
    return found


def _shortest_name(groups: List[Group]) -> Group:
    """The group with the shortest config name, i.e. the pair's KD config
    rather than a variant of it."""
    return min(groups, key=lambda g: (len(g.config_name), g.config_name))


def kd_group_for(group: Group,
                 kd: Dict[str, Dict[str, List[Group]]]) -> Optional[Group]:
    """The KD group a row is compared with: TST rows with KD on TST's
    recipe where that ran, every row else with the pair's plain KD; of
    that slot's groups the one run with the row's settings (length,
    subset, teacher) where there is one, else the shortest-named."""
    entry = kd.get(group.pair) or {}
    if group.method.startswith('tst') and 'tst_recipe' in entry:
        slot = 'tst_recipe'
    else:
        slot = 'plain' if 'plain' in entry else 'tst_recipe'
    if slot not in entry:
        return None
    same = [g for g in entry[slot] if g.settings == group.settings]
    return _shortest_name(same or entry[slot])


def our_kd_means(groups: List[Group]) -> Dict[str, float]:
    """Per pair, the mean of our plain KD group (see :func:`kd_groups`)."""
    return {
        pair: _shortest_name(entry.get('plain')
                             or entry['tst_recipe']).stats()[0]
        for pair, entry in kd_groups(groups).items()
    }


def flags_of(group: Group,
             entry: Optional[dict],
             kd_group: Optional[Group] = None) -> List[str]:
    """Warnings for a row: unfinished seeds, stand-ins, missing metrics,
    a "vs KD" that compares different experiments."""
    flags = []
    if kd_group is not None and kd_group is not group:
        differ = settings_difference(group.settings, kd_group.settings)
        if differ:
            flags.append(f'Δ vs KD across different settings ({differ})')
    for run in group.unfinished:
        total = run.total if run.total is not None else '?'
        flags.append(f'unfinished: seed {run.seed} ({run.progress}/{total} '
                     f'{run.unit}s)')
    if any(is_stand_in(run, entry) for run in group.runs):
        flags.append('stand-in: not comparable with the paper')
    if any(run.final is None for run in group.runs):
        flags.append(f'{sum(r.final is None for r in group.runs)} run(s) '
                     'logged no validation metric')
    if group.method == 'unknown':
        flags.append('config not found')
    return flags


def summarize(groups: List[Group], reference: dict) -> List[dict]:
    """One plain-data row per group: stats, paper, deltas, flags."""
    pairs = reference.get('pairs') or {}
    kd = kd_groups(groups)
    rows = []
    for group in groups:
        entry = pairs.get(group.pair)
        mean, std, n = group.stats('final')
        best_mean, best_std, _ = group.stats('best')
        wall_mean = group.stats('wall_s')[0]
        stand_in = any(is_stand_in(run, entry) for run in group.runs)
        paper = paper_number(entry, group.method)
        delta_paper = (
            mean -
            paper if None not in (mean, paper) and not stand_in else None)
        kd_group = kd_group_for(group, kd)
        kd_basis, kd_value = _kd_reference(group, entry, kd_group)
        paired = (
            paired_difference(group.by_seed(), kd_group.by_seed())
            if kd_group is not None and kd_group is not group
            and group.method != 'teacher' else None)
        rows.append(
            dict(
                pair=group.pair,
                method=group.method,
                config=group.config_name,
                n=n,
                seeds=[r.seed for r in group.counted],
                final_mean=mean,
                final_std=std,
                best_mean=best_mean,
                best_std=best_std,
                paper=paper,
                tst_paper_missing=(group.method.startswith('tst')
                                   and entry is not None and paper is None),
                delta_paper=delta_paper,
                kd=kd_value,
                kd_basis=kd_basis,
                delta_kd=(mean - kd_value if None not in (mean, kd_value)
                          and group.method != 'teacher'
                          and kd_group is not group else None),
                kd_config=kd_group.config_name if kd_group else None,
                delta_kd_paired=paired.to_dict() if paired else None,
                anchors=anchors_text(entry),
                stand_in=stand_in,
                wall_min=None if wall_mean is None else wall_mean / 60,
                flags=flags_of(group, entry, kd_group),
                runs=[r.to_dict() for r in group.runs]))
    return rows


def _kd_reference(
        group: Group, entry: Optional[dict],
        kd_group: Optional[Group]) -> Tuple[Optional[str], Optional[float]]:
    """What "vs KD" compares with: our KD mean for the pair, else the
    paper's KD number."""
    if kd_group is not None:
        return 'ours', kd_group.stats()[0]
    value = paper_number(entry, 'kd')
    return ('paper', value) if value is not None else (None, None)


def markdown_table(rows: List[dict], include_unfinished: bool) -> str:
    """The rows as a markdown table with its footnotes."""
    lines = [
        '| pair | method | ours: final mean ± std (n seeds) | best '
        '| paper | anchors (published) | Δ vs paper | Δ vs KD '
        '| Δ vs KD (paired, 95% CI) | min/run | flags |',
        '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    method_counts: Dict[tuple, int] = {}
    for row in rows:
        key = (row['pair'], row['method'])
        method_counts[key] = method_counts.get(key, 0) + 1
    for row in rows:
        method = row['method']
        if method_counts[(row['pair'], method)] > 1:
            method += f" ({row['config']})"
        paper = '—†' if row['tst_paper_missing'] else _fmt(row['paper'])
        delta_kd = _fmt(row['delta_kd'], signed=True)
        if row['delta_kd'] is not None and row['kd_basis'] == 'paper':
            delta_kd += ' (paper KD)'
        lines.append('| ' + ' | '.join([
            row['pair'] or f"(unmatched) {row['config']}", method,
            _fmt_stats(row['final_mean'], row['final_std'], row['n']),
            _fmt(row['best_mean']), paper, row['anchors'], 'n/c'
            if row['stand_in'] else _fmt(row['delta_paper'], True), delta_kd,
            paired_text(row.get('delta_kd_paired')),
            _fmt(row.get('wall_min'), digits=1), '; '.join(row['flags']) or ''
        ]) + ' |')
    notes = [
        '', 'std: sample standard deviation over seeds. "best": mean of '
        "each seed's best validation value. min/run: mean wall-clock "
        'minutes of a run (from its log timestamps; compare rows of one '
        'set, run in sequence on one machine). Unfinished runs are ' +
        ('included.' if include_unfinished else
         'left out of the statistics (--include-unfinished keeps '
         'them).'), '',
        'Δ vs KD (paired, 95% CI): the mean over the seeds both '
        'runs have of (this run - KD with the same seed), with the '
        "two-sided 95% Student's t-interval [low, high] of that mean "
        '(none for one seed). TST rows are compared with "KD with '
        'TST\'s recipe" (a config named *tstrecipe*) where it ran, '
        "other rows with the pair's KD config."
    ]
    if any(row['tst_paper_missing'] for row in rows):
        notes.append(TST_FOOTNOTE)
    return '\n'.join(lines + notes)


def collect(roots: List[str],
            reference_path: str = DEFAULT_REFERENCE,
            include_unfinished: bool = False,
            metric: Optional[str] = None) -> List[dict]:
    """Find, parse, group and summarise the runs under ``roots``."""
    reference = load_reference(reference_path)
    groups = load_groups(roots, reference, include_unfinished, metric)
    return summarize(groups, reference)


def versus_table(roots: List[str],
                 comparisons: List[str],
                 metric: Optional[str] = None) -> str:
    """Paired differences between named runs: each comparison is
    ``A:B`` (config names, globs allowed), ``A - B`` over the seeds both
    finished, with its 95% t-interval."""
    groups = load_groups(roots, metric=metric)
    lines = ['| comparison | paired Δ (95% CI) | seeds |', '|---|---|---|']
    for comparison in comparisons:
        names = comparison.split(':')
        if len(names) != 2:
            raise ValueError(f'--versus takes A:B (two config names), got '
                             f'{comparison!r}')
        found = []
        for name in names:
            hits = [g for g in groups if fnmatch(g.config_name, name)]
            if len(hits) != 1:
                raise ValueError(
                    f'--versus {comparison}: {name!r} matches '
                    f'{len(hits)} run groups; names: ' +
                    ', '.join(sorted(g.config_name for g in groups)))
            found.append(hits[0])
        diff = paired_difference(found[0].by_seed(), found[1].by_seed())
        text = '—' if diff is None else diff.text()
        seeds = '—' if diff is None else ', '.join(map(str, diff.seeds))
        lines.append(f'| {found[0].config_name} − {found[1].config_name} '
                     f'| {text} | {seeds} |')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_set_arguments(
        parser, 'a set of benchmarks/sets.yaml: adds '
        '<work_root>/<set> to the roots')
    parser.add_argument('--metric', help='validation key (default: detected)')
    parser.add_argument('--include-unfinished', action='store_true')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print JSON instead of the markdown table')
    parser.add_argument(
        '--out',
        help='also write results.md and '
        'results.json into this folder')
    parser.add_argument(
        '--versus',
        nargs='+',
        metavar='A:B',
        default=[],
        help='also print the paired difference A - B over '
        'matching seeds for these config names (globs)')
    args = parser.parse_args(argv)
    resolve_roots(parser, args)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = collect(args.roots, args.reference, args.include_unfinished,
                   args.metric)
    table = markdown_table(rows, args.include_unfinished)
    as_json = json.dumps(dict(groups=rows), indent=1)
    if args.versus:
        table += '\n\n' + versus_table(args.roots, args.versus, args.metric)
    print(as_json if args.json else table)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(osp.join(args.out, 'results.md'), 'w') as f:
            f.write(table + '\n')
        with open(osp.join(args.out, 'results.json'), 'w') as f:
            f.write(as_json + '\n')
    if not rows:
        print(f'no runs found under {args.roots}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(run_friendly(main))

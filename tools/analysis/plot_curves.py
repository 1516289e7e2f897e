"""Plot validation accuracy against epochs per method, and TST's policy.

For each pair found under the roots: one PNG with a curve per method (the
mean over seeds, shaded +/- one standard deviation). For each TST run: the
learned policy (p and m of every op) via mmtst.visualization.plot_policy.
The PNGs go next to the results table (the set's folder by default).

Usage:
    python tools/analysis/plot_curves.py --set fmnist-mini
    python tools/analysis/plot_curves.py WORK_DIR [...] --out DIR
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, never a display
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.benchmarks import (DEFAULT_REFERENCE, Group, add_set_arguments,
                              load_groups, load_reference, mean_std,
                              resolve_roots)
from mmtst.visualization import plot_policy, read_policy_records


def safe_name(text: str) -> str:
    """A file-name-safe version of a pair id or config name."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', text).strip('_')


def mean_curve(group: Group) -> List[Tuple[int, float, float]]:
    """``[(step, mean, std), ...]`` over the group's seeds at each step
    that at least one seed validated."""
    by_step: Dict[int, List[float]] = defaultdict(list)
    for run in group.runs:
        for step, value in run.curve:
            by_step[step].append(value)
    return [(step, *mean_std(values))
            for step, values in sorted(by_step.items())]


def plot_pair(pair: str, groups: List[Group], out: str) -> Optional[str]:
    """One figure: a curve per (method, config) of one pair."""
    curves = [(g, mean_curve(g)) for g in groups]
    curves = [(g, c) for g, c in curves if c]
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    labels = defaultdict(int)
    for group, _ in curves:
        labels[group.method] += 1
    for group, curve in curves:
        steps, means, stds = zip(*curve)
        label = group.method if labels[group.method] == 1 else \
            f'{group.method} ({group.config_name})'
        # a single validation point is drawn as a point, not an empty line
        line, = ax.plot(
            steps,
            means,
            marker='o' if len(steps) == 1 else None,
            label=f'{label} ({len(group.runs)} runs)')
        ax.fill_between(
            steps, [m - s for m, s in zip(means, stds)],
            [m + s for m, s in zip(means, stds)],
            color=line.get_color(),
            alpha=0.2)
    run = curves[0][0].runs[0]
    ax.set_xlabel(run.unit)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f'{run.metric} (validation)')
    ax.set_title(f'{pair}: mean over seeds, ± 1 std')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_policies(groups: List[Group], out_dir: str) -> List[str]:
    """The learned policy of every TST run (once per work dir)."""
    written, seen = [], set()
    for group in groups:
        if not group.method.startswith('tst'):
            continue
        for run in group.runs:
            if run.work_dir in seen:
                continue
            seen.add(run.work_dir)
            try:
                records = read_policy_records(run.work_dir)
            except (FileNotFoundError, ValueError) as err:
                print(f'[plot] no policy for {run.work_dir}: {err}')
                continue
            out = osp.join(
                out_dir, f'policy_{safe_name(run.config_name)}'
                f'_seed{run.seed}.png')
            written.append(plot_policy(records, out))
    return written


def plot_all(roots: List[str],
             out_dir: str,
             reference_path: str = DEFAULT_REFERENCE) -> List[str]:
    """Curves per pair and policy plots for every run under ``roots``."""
    groups = load_groups(
        roots, load_reference(reference_path), include_unfinished=True)
    os.makedirs(out_dir, exist_ok=True)
    by_pair: Dict[str, List[Group]] = defaultdict(list)
    for group in groups:
        by_pair[group.pair or 'unmatched'].append(group)
    written = []
    for pair, pair_groups in by_pair.items():
        path = plot_pair(pair, pair_groups,
                         osp.join(out_dir, f'curves_{safe_name(pair)}.png'))
        if path:
            written.append(path)
    return written + plot_policies(groups, out_dir)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_set_arguments(parser, 'a set of benchmarks/sets.yaml')
    parser.add_argument(
        '--out',
        help="output folder (default: the set's "
        'folder, or the first root)')
    args = parser.parse_args(argv)
    resolve_roots(parser, args)
    args.out = args.out or args.roots[-1]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    for path in plot_all(args.roots, args.out, args.reference):
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(run_friendly(main))

"""What TST costs, in one table: whole runs and single steps, next to KD.

Whole runs: the wall-clock of every finished run of a benchmark set
(``tools/analysis/run_benchmark.py``; from the runs' log timestamps, summed
over launches) per method, as a ratio to the set's KD runs at equal epochs,
with the accuracy each method ends at, so a cheaper TST variant
(interleaved augmenter steps, ``replace`` mode) shows what it saves and
whether it kept its gain. Single steps: the rows of
``tools/benchmarks/tst_step_cost.py`` (its ``--json`` output, or a fresh
run with ``--run-steps``), with peak memory when that JSON has it.

Usage:
    python tools/benchmarks/cost_table.py --set fmnist-mini
    python tools/benchmarks/cost_table.py --set fmnist-mini \\
        --steps-json work_dirs/step_cost.json
    python tools/benchmarks/cost_table.py --set fmnist-mini --run-steps \\
        --step-args --threads 1 --iters 5
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from mmtst.benchmarks import DEFAULT_SETS, load_groups, load_sets, set_root


def run_rows(root: str) -> List[dict]:
    """Per (method, config): finished runs, mean minutes, mean top-1."""
    rows = []
    for group in load_groups([root]):
        wall, _, n = group.stats('wall_s')
        final = group.stats('final')[0]
        if not n:
            continue
        rows.append(
            dict(
                method=group.method,
                config=group.config_name,
                n=n,
                minutes=wall / 60,
                final=final))
    return rows


def whole_run_table(rows: List[dict]) -> str:
    kd = next((r for r in rows if r['method'] == 'kd'), None)
    lines = [
        '| run (config) | method | seeds | min / run | ratio to KD '
        '| top-1 | Δ top-1 vs KD |', '|---|---|---|---|---|---|---|'
    ]
    for row in rows:
        ratio = (f"{row['minutes'] / kd['minutes']:.2f}x" if kd else '—')
        delta = (f"{row['final'] - kd['final']:+.2f}"
                 if kd and None not in (row['final'], kd['final']) else '—')
        final = '—' if row['final'] is None else f"{row['final']:.2f}"
        lines.append(f"| {row['config']} | {row['method']} | {row['n']} "
                     f"| {row['minutes']:.1f} | {ratio} | {final} | {delta} |")
    lines.append('')
    lines.append("Minutes come from the runs' log timestamps at equal epochs; "
                 'the runs of a set ran on one machine, so the ratios share '
                 'its load.')
    return '\n'.join(lines)


def step_table(result: dict) -> str:
    lines = [
        '| step kind | ratio to KD step | target | pass/fail |',
        '|---|---|---|---|'
    ]
    for row in result['rows']:
        ratio = f"{row['ratio_to_kd']:.2f}x"
        if row.get('percent_of_student') is not None:
            ratio += f" ({row['percent_of_student']:.2f}% of TST step)"
        target = '—' if row.get('target') is None else (
            f"<= {row['target']:g}%" if row.get('metric')
            == 'percent_of_student' else f"<= {row['target']:.2f}x")
        verdict = {True: 'pass', False: 'FAIL', None: '—'}[row.get('passed')]
        lines.append(f"| {row['kind']} | {ratio} | {target} | {verdict} |")
    memory = result.get('peak_memory')
    if memory:  # tst_step_cost.py --peak-memory: one process per kind
        lines += [
            '', '| step kind | peak RSS MB | added by the steps MB |',
            '|---|---|---|'
        ]
        for kind, entry in memory.items():
            lines.append(f"| {kind} | {entry['peak_rss_mb']:.0f} "
                         f"| {entry['added_by_steps_mb']:.0f} |")
    return '\n'.join(lines)


def run_steps(step_args: List[str], out: str) -> dict:
    subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'benchmarks', 'tst_step_cost.py'), '--json',
        out, *step_args
    ],
                   check=True,
                   cwd=ROOT)
    with open(out) as f:
        return json.load(f)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--set', help='a set of the sets file (whole runs)')
    parser.add_argument('--sets', default=DEFAULT_SETS)
    parser.add_argument('--work-root', help="override the sets file's")
    parser.add_argument('--steps-json', help='tst_step_cost.py --json output')
    parser.add_argument(
        '--run-steps',
        action='store_true',
        help='run tst_step_cost.py now (writes --steps-json '
        'or a file next to the set)')
    parser.add_argument(
        '--step-args',
        nargs=argparse.REMAINDER,
        default=[],
        help='arguments for tst_step_cost.py (last)')
    args = parser.parse_args(argv)
    if not (args.set or args.steps_json or args.run_steps):
        parser.error('give --set, --steps-json or --run-steps')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    parts = []
    root: Optional[str] = None
    if args.set:
        root = set_root(args.set, load_sets(args.sets), args.work_root, ROOT)
        rows = run_rows(root)
        if not rows:
            raise RuntimeError(f'no finished run with logs under {root}: run '
                               f'tools/analysis/run_benchmark.py {args.set} '
                               'first')
        parts.append(f'Whole runs ({args.set}):\n\n' + whole_run_table(rows))
    result = None
    if args.run_steps:
        out = args.steps_json or osp.join(root or ROOT, 'step_cost.json')
        result = run_steps(args.step_args, out)
    elif args.steps_json:
        with open(args.steps_json) as f:
            result = json.load(f)
    if result is not None:
        parts.append('Single steps (tools/benchmarks/tst_step_cost.py):\n\n' +
                     step_table(result))
    print('\n\n'.join(parts))
    return 0


if __name__ == '__main__':
    from mmtst.apis import run_friendly
    sys.exit(run_friendly(main))

"""What one TST step costs, next to a plain KD step (CPU speed check).

TST ("Teaching What You Should Teach", Shao et al., IJCAI 2023) trains the
student on a doubled batch [augmented; original] and, in its augmenter
phases, back-propagates through teacher and student to the augmenter's
policy. This script times those steps against a plain KD step of the same
teacher/student pair, in one process, and checks them against the targets of
the speed issue (references measured with the TST authors' code on this CPU).

Scenario ``cls_cifar100`` (the default): CIFAR-100-shaped input
(3x32x32 uint8 pixels, 100 classes; **random data**: the timings do not
depend on the pixel values, the accuracy is not measured), teacher
``CifarResNet`` resnet32x4 (randomly initialised: ``allow_random_teacher``),
student resnet8x4, ``KDLoss(tau=4)``, SGD for the student, SGD(momentum 0.9)
for the augmenter (as in the quick-start TST config). Step kinds, each the
real code path a training run takes:

* ``kd``: ``ClassificationDistiller`` without augmenter,
  ``model.train_step(data, optim)``: the baseline every ratio is taken to.
* ``tst_double[B]``: TST student step, ``tst_mode='double'`` (the paper:
  teacher and student see the doubled batch).
* ``tst_replace[B]``: TST student step, ``tst_mode='replace'`` (beyond the
  paper: half the batch augmented in place; should cost about a KD step).
* ``aug_step[B]``: TST stage II, ``model.augmenter_step(data, optim)``.
* ``aug_forward[B]``: ``model.augment(inputs)`` alone, under ``no_grad`` in
  train mode (what the student step spends on augmenting).

for each augmenter backend ``B`` in ``--backends`` (``neural``: the shipped
op nets, skipped with a note if their checkpoint is missing; ``analytic``).

Scenarios ``det_scenes`` and ``seg_scenes`` (``--scenario``; use
``--batch 8``): the Fashion-MNIST scenes pairs (RetinaNet and PSPNet, ResNet-18
at 1/4 -> 1/8 width) on random 96x96 images with boxes / label maps; kinds
``kd``, ``tst_double[B]``, ``aug_step[B]`` and ``aug_forward[B]``, reported
without targets (the speed issue sets them for classification only).

How it measures: every step kind is built once, then the kinds are run
round-robin (the order rotated every round) for ``--warmup`` + ``--iters``
rounds, so that load from other processes on a shared machine hits all
kinds alike; the table reports the median wall time of the timed rounds
(and the inter-quartile range, to show the noise), and the ratio of the
median process CPU times. ``--flops`` adds the ratio of the steps'
convolution/matmul FLOPs (``torch.utils.flop_counter``), which no machine
noise touches: it is where the time ratios tend to when convolutions
dominate. ``--peak-memory`` re-runs the script once per kind
(``--only KIND``) in a fresh process, because the peak RSS of a process
only ever grows: each kind's peak is the peak of a process that built only
what that kind needs and ran ``--memory-iters`` steps of it (``VmHWM`` on
Linux: a subprocess's ``ru_maxrss`` also counts its parent's RSS at the
fork). It includes what importing torch and the toolboxes costs (reported
as "after imports").

How to read it: "ratio to KD step" is median(kind) / median(kd) of the
wall times; a row passes when that ratio (for ``aug_forward``: its share of
the TST step of the same backend) is within the target (the "RSS" targets
likewise for the absolute peak). "ref" is what the
authors' code measured. The numbers are only comparable on the same machine
with the same ``--threads`` and ``--batch``. On a machine shared with other
work (the header says how many cores the benchmark got on average), every
parallel op can wait for a descheduled worker thread, which penalises the
steps with more (small) ops; there the CPU-time and FLOP ratios, and a
rerun with ``--threads 1``, tell machine noise from real cost. The memory
table's "added by steps" and "above KD peak" columns do not depend on what
importing torch and the toolboxes costs in this environment; the absolute
peak does.

Examples::

    python tools/benchmarks/tst_step_cost.py    # the default table
    python tools/benchmarks/tst_step_cost.py --peak-memory --json out.json
    python tools/benchmarks/tst_step_cost.py --flops --threads 1
    python tools/benchmarks/tst_step_cost.py --profile 'aug_step[neural]'
    python tools/benchmarks/tst_step_cost.py --malloc-heap   # diagnostic

The scenarios, their step kinds, the measuring and the tables live in
``mmtst/benchmarks/`` (``scenarios.py``, ``step_kinds.py``, ``step_cost.py``,
``step_report.py``). Adding a scenario: write a function that returns a
``Scenario`` (its step kinds with their roles, the baseline, targets and
references) and decorate it with ``@register_scenario('name')``; the timing,
memory, table and JSON code is shared.
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, Optional, Sequence

# Runnable as a file from anywhere in the repository.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import torch

import mmtst.benchmarks.scenarios  # noqa: F401  (registers the scenarios)
from mmtst.benchmarks.step_cost import (count_flops, evaluate,
                                        keep_freed_memory_in_heap,
                                        profile_kind, run_only,
                                        time_round_robin)
from mmtst.benchmarks.step_kinds import BASELINE, SCENARIOS, Scenario
from mmtst.benchmarks.step_report import (format_forward_share, format_load,
                                          format_memory, format_table,
                                          machine_info)


def measure_peak_memory(scenario: Scenario,
                        args: argparse.Namespace) -> Dict[str, dict]:
    """Peak RSS of each kind, each in a fresh process (``--only KIND``)."""
    results = {}
    for kind in scenario.kinds:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--only', kind.name, '--scenario',
            args.scenario, '--batch',
            str(args.batch), '--threads',
            str(args.threads), '--memory-iters',
            str(args.memory_iters), '--backends', *args.backends
        ]
        if args.malloc_heap:
            cmd.append('--malloc-heap')
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f'peak-memory run of {kind.name} failed '
                               f'(exit {proc.returncode}):\n' +
                               (proc.stdout + proc.stderr)[-3000:])
        results[kind.name] = json.loads(lines[-1])
    return results


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time TST student / augmenter steps against a KD step '
        '(see the module docstring).')
    parser.add_argument(
        '--scenario', default='cls_cifar100', choices=sorted(SCENARIOS))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument(
        '--threads',
        type=int,
        default=2,
        help='torch.set_num_threads (default 2)')
    parser.add_argument(
        '--iters', type=int, default=20, help='timed rounds (default 20)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed rounds first (default 3)')
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['neural', 'analytic'],
        choices=['neural', 'analytic'])
    parser.add_argument(
        '--kinds',
        nargs='+',
        default=None,
        metavar='KIND',
        help='time only these step kinds (default all)')
    parser.add_argument(
        '--peak-memory',
        action='store_true',
        help='also measure each kind\'s peak RSS in its own '
        'process')
    parser.add_argument(
        '--flops',
        action='store_true',
        help='also count each step\'s convolution/matmul '
        'FLOPs (one extra call per kind, noise-free)')
    parser.add_argument(
        '--malloc-heap',
        action='store_true',
        help='diagnostic: glibc keeps freed memory in the '
        'heap instead of unmapping large blocks (see '
        'keep_freed_memory_in_heap)')
    parser.add_argument(
        '--memory-iters',
        type=int,
        default=5,
        help='steps per peak-memory process (default 5)')
    parser.add_argument(
        '--only', default=None, metavar='KIND',
        help=argparse.SUPPRESS)  # a --peak-memory child
    parser.add_argument(
        '--profile',
        nargs='+',
        default=None,
        metavar='KIND',
        help='print a torch.profiler table of these kinds '
        '(--iters steps after --warmup) instead of '
        'timing')
    parser.add_argument(
        '--json',
        default=None,
        metavar='OUT',
        help='also write the results as JSON')
    args = parser.parse_args(argv)
    for name in ('batch', 'threads', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.malloc_heap and not keep_freed_memory_in_heap():
        print('NOTE: --malloc-heap needs glibc; ignored')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    scenario = SCENARIOS[args.scenario](args)

    if args.only is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            result = run_only(scenario, args.only, args.memory_iters)
        print(json.dumps(result))
        return result

    for note in scenario.notes:
        print(f'NOTE: {note}')

    if args.profile:
        for name in args.profile:
            print(f'\n## torch.profiler: {name} ({args.iters} steps)\n')
            print(profile_kind(scenario, name, args.iters, args.warmup))
        return dict(profiled=args.profile)

    kinds = scenario.kinds
    if args.kinds:
        kinds = [scenario.kind(name) for name in args.kinds]
        if not any(k.role == BASELINE for k in kinds):
            kinds.insert(0,
                         next(k for k in scenario.kinds if k.role == BASELINE))
        scenario.kinds = [k for k in scenario.kinds if k in kinds]

    info = machine_info(args.threads)
    load_before = info.pop('loadavg', None)
    steps = {kind.name: kind.build() for kind in scenario.kinds}
    flops = count_flops(steps) if args.flops else None
    start, start_cpu = time.perf_counter(), time.process_time()
    times, cpu_times = time_round_robin(steps, args.iters, args.warmup)
    elapsed = time.perf_counter() - start
    cores_used = (time.process_time() - start_cpu) / elapsed
    try:
        load_after = os.getloadavg()
    except OSError:
        load_after = None
    rows = evaluate(scenario, times, cpu_times, flops)

    print(f'\n# TST step cost: {scenario.description}\n')
    print(
        f"torch {info['torch']}, {args.threads} thread(s) of "
        f"{info['cpu_count']} CPU(s) ({info.get('cpu_model', '?')}), "
        f'{args.iters} timed rounds after {args.warmup} warm-up, '
        f'round-robin; timing took {elapsed:.0f} s, using '
        f'{cores_used:.2f} cores on average; load average '
        f'{format_load(load_before)} before, {format_load(load_after)} after\n'
    )
    print(format_table(rows))
    print()
    print(format_forward_share(rows))

    memory = None
    if args.peak_memory:
        memory = measure_peak_memory(scenario, args)
        print(f'\nPeak RSS, each kind in its own process '
              f'({args.memory_iters} steps; target: no higher than the '
              'reference):\n')
        print(format_memory(scenario, memory))

    result = dict(
        scenario=scenario.name,
        description=scenario.description,
        config=dict(
            batch=args.batch,
            threads=args.threads,
            iters=args.iters,
            warmup=args.warmup,
            backends=args.backends,
            memory_iters=args.memory_iters,
            malloc_heap=args.malloc_heap),
        machine=dict(
            info, loadavg_before=load_before, loadavg_after=load_after),
        timing_seconds=elapsed,
        cores_used=cores_used,
        notes=scenario.notes,
        rows=rows,
        times_ms={
            k: [t * 1e3 for t in v]
            for k, v in times.items()
        },
        cpu_times_ms={
            k: [t * 1e3 for t in v]
            for k, v in cpu_times.items()
        },
        flops=flops,
        peak_memory=memory)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'\nwrote {args.json}')
    return result


if __name__ == '__main__':
    main()

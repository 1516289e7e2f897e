"""Measuring steps: wall and CPU time round-robin, FLOPs, peak RSS of a
process that runs one step kind (``--only``), torch.profiler tables, and
the rows (medians, ratios, targets, verdicts) the step-cost table shows.
"""
import resource
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

from .step_kinds import AUGMENTER_FORWARD, BASELINE, STUDENT, Scenario, StepFn


def proc_status_mb(field_name: str) -> Optional[float]:
    """A ``VmXXX`` field of /proc/self/status in MB (None off Linux)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field_name + ':'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak RSS of this process in MB.

    ``VmHWM`` where there is one: ``getrusage().ru_maxrss`` of a process
    started by ``subprocess`` (vfork + exec) also counts the *parent's* RSS
    at the fork, so a child would report at least its parent's size.
    """
    hwm = proc_status_mb('VmHWM')
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # KiB on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0 if sys.platform == 'darwin' else 1024.0)


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False if not
    possible here."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return False
    return True


def keep_freed_memory_in_heap() -> bool:
    """Diagnostic (``--malloc-heap``): make glibc serve every allocation
    from the heap and never give freed memory back to the OS.

    By default glibc maps each block larger than its mmap threshold (at
    most 32 MB) afresh and unmaps it when freed, so a step whose
    activations exceed that (a ResNet feature map at batch 128: 128 x 64 x
    32 x 32 floats = 33.5 MB) pays page faults and zeroing for them on
    every step. Returns False where this is not glibc.
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(mallopt(m_mmap_max, 0)) and bool(
        mallopt(m_trim_threshold, 2**31 - 1))


def time_round_robin(
        steps: Dict[str, StepFn], iters: int,
        warmup: int) -> Tuple[Dict[str, List[float]], Dict[str, List[float]]]:
    """Wall and process-CPU times (s) of ``iters`` calls of every step after
    ``warmup`` rounds, the steps interleaved and their order rotated each
    round."""
    names = list(steps)
    wall: Dict[str, List[float]] = {name: [] for name in names}
    cpu: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(warmup + iters):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start, start_cpu = time.perf_counter(), time.process_time()
            steps[name]()
            elapsed = time.perf_counter() - start
            elapsed_cpu = time.process_time() - start_cpu
            if r >= warmup:
                wall[name].append(elapsed)
                cpu[name].append(elapsed_cpu)
    return wall, cpu


def count_flops(steps: Dict[str, StepFn]) -> Dict[str, int]:
    """Convolution / matmul FLOPs of one call of every step (forward and
    backward), counted by ``torch.utils.flop_counter``: noise-free, so the
    ratio of two steps' FLOPs is what their time ratio tends to when
    convolutions dominate."""
    from torch.utils.flop_counter import FlopCounterMode
    flops = {}
    for name, step in steps.items():
        with FlopCounterMode(display=False) as counter:
            step()
        flops[name] = counter.get_total_flops()
    return flops


def _quartiles(values: Sequence[float]) -> tuple:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method='inclusive')
    return q[0], q[2]


def evaluate(scenario: Scenario,
             times: Dict[str, List[float]],
             cpu_times: Optional[Dict[str, List[float]]] = None,
             flops: Optional[Dict[str, int]] = None) -> List[dict]:
    """One row per kind: median, spread, ratios, target and verdict. The
    verdict uses the wall-time median (the CPU-time and FLOP ratios are
    there to judge how much of it is machine noise)."""
    median = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    cpu = ({
        k: statistics.median(v) * 1e3
        for k, v in cpu_times.items()
    } if cpu_times else {})
    baseline = next(k.name for k in scenario.kinds if k.role == BASELINE)
    rows = []
    for kind in scenario.kinds:
        if kind.name not in times:
            continue
        q1, q3 = _quartiles([t * 1e3 for t in times[kind.name]])
        row = dict(
            kind=kind.name,
            role=kind.role,
            backend=kind.backend,
            description=kind.description,
            median_ms=median[kind.name],
            q1_ms=q1,
            q3_ms=q3,
            n=len(times[kind.name]),
            ratio_to_kd=median[kind.name] / median[baseline],
            target=None,
            ref=None,
            value=None,
            passed=None)
        if kind.name in cpu and cpu.get(baseline):
            row['cpu_median_ms'] = cpu[kind.name]
            row['cpu_ratio_to_kd'] = cpu[kind.name] / cpu[baseline]
        if flops and flops.get(baseline):
            row['gflop'] = flops[kind.name] / 1e9
            row['flop_ratio_to_kd'] = flops[kind.name] / flops[baseline]
        if kind.role == AUGMENTER_FORWARD:  # reported with or without target
            student = next(
                (k.name for k in scenario.kinds if k.role == STUDENT
                 and k.backend == kind.backend and k.name in median), None)
            row['percent_of_student'] = row['value'] = (100.0 *
                                                        median[kind.name] /
                                                        median[student]
                                                        if student else None)
        target = scenario.targets.get(kind.role)
        if target is not None:
            if target.metric == 'ratio':
                value = row['ratio_to_kd']
            elif target.metric == 'percent_of_student':
                value = row['percent_of_student']
            else:
                raise ValueError(f'unknown target metric {target.metric!r}')
            row.update(
                target=target.limit,
                metric=target.metric,
                ref=target.ref,
                value=value,
                passed=None if value is None else value <= target.limit)
        rows.append(row)
    return rows


def run_only(scenario: Scenario, name: str, iters: int) -> dict:
    """The body of a ``--only KIND`` process: import the toolboxes, build
    one kind, run it, and report the peak RSS at each of these points.

    The peak of the steps alone is measured by resetting the peak RSS after
    the build where the kernel allows it, so that a transient peak while
    importing or building cannot hide it."""
    kind = scenario.kind(name)
    if scenario.preload is not None:
        scenario.preload()
    after_imports = peak_rss_mb()
    step = kind.build()
    after_build = peak_rss_mb()
    rss_before_steps = proc_status_mb('VmRSS') or after_build
    reset = reset_peak_rss()
    for _ in range(iters):
        step()
    steps_peak = peak_rss_mb()
    return dict(
        kind=name,
        role=kind.role,
        rss_after_imports_mb=after_imports,
        rss_after_build_mb=after_build,
        peak_rss_mb=max(after_build, steps_peak),
        added_by_steps_mb=(steps_peak - rss_before_steps if reset else max(
            steps_peak - after_build, 0.0)),
        peak_reset=reset,
        steps=iters)


def profile_kind(scenario: Scenario,
                 name: str,
                 iters: int,
                 warmup: int,
                 row_limit: int = 25) -> str:
    """torch.profiler table (self CPU time) of ``iters`` steps of a kind."""
    from torch.profiler import ProfilerActivity, profile
    step = scenario.kind(name).build()
    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(iters):
            step()
    return prof.key_averages().table(
        sort_by='self_cpu_time_total', row_limit=row_limit)

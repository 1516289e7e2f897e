"""The step-cost tables: the timing table against the targets, the
augmenter forward's share, the peak-memory table, and what the header
says about the machine."""
import os
import platform
from typing import Dict, List

import torch

from .step_kinds import AUGMENTER_FORWARD, BASELINE, Scenario


def _fmt_target(row: dict) -> str:
    if row['target'] is None:
        return 'baseline' if row['role'] == BASELINE else '-'
    if row['metric'] == 'percent_of_student':
        text = f"<= {row['target']:g}% of TST step"
    else:
        text = f"<= {row['target']:.2f}x"
    return text + (f" (ref {row['ref']})" if row['ref'] else '')


def _fmt_verdict(row: dict) -> str:
    if row['passed'] is None:
        return '-'
    return 'pass' if row['passed'] else 'FAIL'


def format_table(rows: List[dict]) -> str:
    has_cpu = all('cpu_ratio_to_kd' in r for r in rows)
    has_flops = all('flop_ratio_to_kd' in r for r in rows)
    head = ['step kind', 'median ms', 'IQR ms', 'ratio to KD step']
    head += ['CPU-time ratio'] if has_cpu else []
    head += ['FLOP ratio'] if has_flops else []
    head += ['target', 'pass/fail']
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '|---|---:|---:|---:|' + '---:|' * (has_cpu + has_flops) + '---|---|'
    ]
    for row in rows:
        ratio = f"{row['ratio_to_kd']:.2f}x"
        if row['role'] == AUGMENTER_FORWARD and row.get('value') is not None:
            ratio += f" ({row['value']:.2f}% of TST)"
        cells = [
            row['kind'], f"{row['median_ms']:.1f}",
            f"{row['q1_ms']:.1f}-{row['q3_ms']:.1f}", ratio
        ]
        if has_cpu:
            cells.append(f"{row['cpu_ratio_to_kd']:.2f}x")
        if has_flops:
            cells.append(f"{row['flop_ratio_to_kd']:.3f}x")
        cells += [_fmt_target(row), _fmt_verdict(row)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_forward_share(rows: List[dict]) -> str:
    parts = [
        f"{r['backend']}: {r['value']:.2f}%" for r in rows
        if r['role'] == AUGMENTER_FORWARD and r.get('value') is not None
    ]
    if not parts:
        return ('augmenter forward as % of TST step: '
                '(no augmenter forward rows timed)')
    targeted = any(r['role'] == AUGMENTER_FORWARD and r['target'] is not None
                   for r in rows)
    return ('augmenter forward as % of TST step: ' + ', '.join(parts) +
            (' (target <= 1%, ref 0.3-0.4%)' if targeted else ''))


def format_memory(scenario: Scenario, memory: Dict[str, dict]) -> str:
    """Peak RSS per kind against the references; also what the step adds
    to the process (peak - after build) and to the KD step's peak, which
    do not depend on the process's import baseline."""
    baseline = next(
        (k.name
         for k in scenario.kinds if k.role == BASELINE and k.name in memory),
        None)
    base_peak = memory[baseline]['peak_rss_mb'] if baseline else None
    base_ref = scenario.rss_refs_mb.get(BASELINE)
    lines = [
        '| step kind | peak RSS MB | reference MB | pass/fail '
        '| after imports MB | after build MB | added by steps MB '
        '| above KD peak MB (ref) |', '|---|---:|---:|---|---:|---:|---:|---:|'
    ]
    for kind in scenario.kinds:
        if kind.name not in memory:
            continue
        m = memory[kind.name]
        ref = scenario.rss_refs_mb.get(kind.role)
        m['ref_mb'] = ref
        m['passed'] = None if ref is None else m['peak_rss_mb'] <= ref
        verdict = '-' if ref is None else ('pass' if m['passed'] else 'FAIL')
        above = '-'
        if base_peak is not None:
            m['above_kd_peak_mb'] = m['peak_rss_mb'] - base_peak
            above = f"{m['above_kd_peak_mb']:+.0f}"
            if ref is not None and base_ref is not None:
                above += f' ({ref - base_ref:+.0f})'
        lines.append(f"| {kind.name} | {m['peak_rss_mb']:.0f} "
                     f"| {'-' if ref is None else f'{ref:.0f}'} | {verdict} "
                     f"| {m.get('rss_after_imports_mb', float('nan')):.0f} "
                     f"| {m['rss_after_build_mb']:.0f} "
                     f"| {m['added_by_steps_mb']:.0f} | {above} |")
    return '\n'.join(lines)


def machine_info(threads: int) -> dict:
    info = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        platform=platform.platform(),
        processor=platform.processor(),
        cpu_count=os.cpu_count(),
        torch_threads=threads,
        torch_interop_threads=torch.get_num_interop_threads())
    try:
        info['loadavg'] = os.getloadavg()
    except OSError:
        pass
    try:
        with open('/proc/cpuinfo') as f:
            models = [
                ln.split(':', 1)[1].strip() for ln in f
                if ln.startswith('model name')
            ]
        if models:
            info['cpu_model'] = models[0]
    except OSError:
        pass
    return info


def format_load(load) -> str:
    return '?' if load is None else '/'.join(f'{x:.2f}' for x in load)

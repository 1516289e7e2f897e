"""Smoke test of tools/benchmarks/tst_step_cost.py: the script runs end to
end on a tiny batch and reports every step kind. Not a timing test."""
import importlib.util
import json
import os.path as osp

import pytest
from conftest import REPO, needs_fashion_mnist

SCRIPT = osp.join(REPO, 'tools', 'benchmarks', 'tst_step_cost.py')
KINDS = [
    'kd', 'tst_double[analytic]', 'tst_replace[analytic]',
    'aug_step[analytic]', 'aug_forward[analytic]'
]


def load_script():
    spec = importlib.util.spec_from_file_location('tst_step_cost', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_and_reports_every_row(tmp_path, capsys):
    bench = load_script()
    out = tmp_path / 'result.json'
    result = bench.main([
        '--batch', '4', '--iters', '1', '--warmup', '0', '--backends',
        'analytic', '--json',
        str(out)
    ])
    printed = capsys.readouterr().out

    rows = {row['kind']: row for row in result['rows']}
    assert list(rows) == KINDS
    for kind, row in rows.items():
        assert row['median_ms'] > 0, kind
        assert f'| {kind} |' in printed, f'{kind} missing from the table'
    assert rows['kd']['ratio_to_kd'] == 1.0
    for kind in KINDS[1:]:
        assert rows[kind]['passed'] in (True, False), kind
    assert 0 < rows['aug_forward[analytic]']['percent_of_student']
    assert 'augmenter forward as % of TST step: analytic:' in printed
    assert result['peak_memory'] is None  # no subprocesses without the flag
    assert json.loads(out.read_text())['rows'][0]['kind'] == 'kd'


@needs_fashion_mnist
def test_soak_run_samples_memory_and_keeps_hooks_constant(tmp_path, capsys):
    """tools/benchmarks/soak_memory.py on a tiny run: augmenter phases and
    interleaved augmenter steps happen between samples over two persistent
    loader workers; no forward or backward hook is left behind on the
    model's modules, the phases start no workers of their own, and none is
    left once training is over."""
    spec = importlib.util.spec_from_file_location(
        'soak_memory', osp.join(REPO, 'tools', 'benchmarks', 'soak_memory.py'))
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    out = tmp_path / 'soak.json'
    assert soak.main([
        '--iters', '16', '--images', '64', '--batch-size', '8', '--every', '2',
        '--interleave', '2', '--phase-every', '1', '--workers', '2', '--json',
        str(out), '--cfg-options', f'train_dataloader.dataset.data_root='
        f'{tmp_path}/fashion-mnist'
    ]) == 0
    result = json.loads(out.read_text())
    summary, samples = result['summary'], result['samples']
    assert [s['iter'] for s in samples] == list(range(2, 17, 2))
    assert all(s['rss_mb'] > 0 for s in samples)
    assert summary['hooks_start'] == summary['hooks_end']
    assert summary['augmenter_phases'] == 2
    # the two workers (beside whatever this test process already had)
    before = summary['children_before']
    assert all(s['children'] == before + 2 for s in samples)
    assert summary['children_after_training'] == before
    assert summary['fds_end'] <= summary['fds_start']
    assert '| slope_mb_per_100_iters |' in capsys.readouterr().out


@pytest.mark.parametrize('scenario', ['det_scenes', 'seg_scenes'])
def test_structured_scenarios_report_their_rows(scenario, capfd):
    """The detection / segmentation rows: KD, TST student step, augmenter
    step and forward of the scenes pairs (no replace mode, no targets),
    printed as a table without mmengine's per-parameter init dump (fd
    capture: the logger writes to the process's stdout)."""
    result = load_script().main([
        '--scenario', scenario, '--batch', '2', '--iters', '1', '--warmup',
        '0', '--backends', 'analytic'
    ])
    rows = {row['kind']: row for row in result['rows']}
    assert list(rows) == [
        'kd', 'tst_double[analytic]', 'aug_step[analytic]',
        'aug_forward[analytic]'
    ]
    assert all(row['median_ms'] > 0 for row in rows.values())
    assert all(row['passed'] is None for row in rows.values())
    printed = capfd.readouterr().out
    assert '| aug_step[analytic] |' in printed
    assert 'init_weights' not in printed and printed.count('\n') < 40

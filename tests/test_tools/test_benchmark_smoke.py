"""Smoke test of tools/benchmarks/tst_step_cost.py: the script runs end to
end on a tiny batch and reports every step kind. Not a timing test."""
import importlib.util
import json
import os.path as osp

from conftest import REPO

SCRIPT = osp.join(REPO, 'tools', 'benchmarks', 'tst_step_cost.py')
KINDS = ['kd', 'tst_double[analytic]', 'tst_replace[analytic]',
         'aug_step[analytic]', 'aug_forward[analytic]']


def load_script():
    spec = importlib.util.spec_from_file_location('tst_step_cost', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_and_reports_every_row(tmp_path, capsys):
    bench = load_script()
    out = tmp_path / 'result.json'
    result = bench.main(['--batch', '4', '--iters', '1', '--warmup', '0',
                         '--backends', 'analytic', '--json', str(out)])
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

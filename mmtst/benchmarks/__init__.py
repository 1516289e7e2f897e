"""Benchmark code: reading runs back from work dirs, grouping their seeds,
comparing them with the published numbers, and the sets to run.

Reading results (no torch needed), exported here:

* :mod:`.workdirs`: what mmengine wrote in a work dir (scalars, logs,
  checkpoints, the config), finding runs;
* :mod:`.runs`: one run as a :class:`RunResult` (method, seed, curve);
* :mod:`.reference`: matching runs to ``benchmarks/reference.yaml``;
* :mod:`.stats`: mean/std over seeds, paired differences, t-intervals;
* :mod:`.groups`: seeds grouped per experiment, in table order;
* :mod:`.sets`: ``benchmarks/sets.yaml`` and ``reference.yaml``.

Running a set (``tools/analysis/run_benchmark.py``), imported by path:
:mod:`.set_plan` (steps and commands), :mod:`.launch` (running them).

Timing single steps (``tools/benchmarks/tst_step_cost.py``), imported by
path (they need torch and the toolboxes): :mod:`.step_kinds` (roles,
targets, scenario registry, distiller step kinds), :mod:`.synthetic`
(model configs and random batches, shared with the tests),
:mod:`.scenarios` (the registered scenarios), :mod:`.step_cost`
(measuring) and :mod:`.step_report` (tables).
"""
from .groups import (METHOD_ORDER, Group, group_runs, load_groups,
                     settings_difference)
from .reference import (PAPER_KEY, TST_METHODS, is_stand_in, match_pairs,
                        paper_number)
from .runs import (RunResult, classify_method, experiment_settings,
                   find_config_file, parse_run, pipeline_suffix, run_settings,
                   teacher_digest, trained_at_all)
from .sets import (DEFAULT_REFERENCE, DEFAULT_SETS, REPO_ROOT,
                   add_set_arguments, benchmark_file, load_reference,
                   load_sets, resolve_roots, set_root)
from .stats import (PairedDifference, mean_std, paired_difference,
                    t_quantile_975)
from .workdirs import (KNOWN_METRICS, checkpoint_progress, config_name_of,
                       detect_metric, export_teacher, find_runs, last_accuracy,
                       latest_checkpoint, load_run_config, log_files,
                       metric_curve, read_scalars, records_from_logs,
                       wall_seconds)

__all__ = [
    'DEFAULT_REFERENCE', 'DEFAULT_SETS', 'Group', 'KNOWN_METRICS',
    'METHOD_ORDER', 'PAPER_KEY', 'PairedDifference', 'REPO_ROOT', 'RunResult',
    'TST_METHODS', 'add_set_arguments', 'benchmark_file',
    'checkpoint_progress', 'classify_method', 'config_name_of',
    'detect_metric', 'experiment_settings', 'export_teacher',
    'find_config_file', 'find_runs', 'group_runs', 'is_stand_in',
    'last_accuracy', 'latest_checkpoint', 'load_groups', 'load_reference',
    'load_run_config', 'load_sets', 'log_files', 'match_pairs', 'mean_std',
    'metric_curve', 'paired_difference', 'paper_number', 'parse_run',
    'pipeline_suffix', 'read_scalars', 'records_from_logs', 'resolve_roots',
    'run_settings', 'set_root', 'settings_difference', 't_quantile_975',
    'teacher_digest', 'trained_at_all', 'wall_seconds'
]

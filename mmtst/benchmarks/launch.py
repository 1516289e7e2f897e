"""Running the steps of a benchmark set's plan (:mod:`.set_plan`): one
after another, or several trainings at once with one thread each, a run
that needs a teacher waiting for that teacher's export.

``export(teacher)`` exports a teacher's weights and raises RuntimeError
when its run has not finished; commands run from ``repo``.
"""
import os
import os.path as osp
import subprocess
import time
from typing import Callable, Dict, List

from .set_plan import Step

Export = Callable[[str], None]


def run_in_sequence(steps: List[Step], export: Export, keep_going: bool,
                    repo: str) -> int:
    """Run the steps in order; returns the number of failed runs.

    Raises:
        RuntimeError: A run failed and ``keep_going`` is False.
    """
    failures = 0
    for step in steps:
        print(f'[benchmark] {step.text}', flush=True)
        if step.kind == 'export':
            export(step.teacher)
        elif step.kind == 'train':
            done = subprocess.run(
                step.local_argv(), cwd=repo, env=dict(os.environ, **step.env))
            if done.returncode:
                failures += 1
                if not keep_going:
                    raise RuntimeError(f'{step.text} failed (exit '
                                       f'{done.returncode})')
    return failures


def _launch(step: Step, repo: str) -> subprocess.Popen:
    """Start one training with one thread, its output in console.log."""
    env = dict(os.environ, **step.env)
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        env.setdefault(var, '1')
    work_dir = step.work_dir if osp.isabs(step.work_dir or '') else \
        osp.join(repo, step.work_dir or '.')
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'console.log'), 'ab') as log:
        return subprocess.Popen(
            step.local_argv(),
            cwd=repo,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT)


def run_in_parallel(steps: List[Step],
                    export: Export,
                    keep_going: bool,
                    jobs: int,
                    repo: str,
                    poll_s: float = 0.5) -> int:
    """Run up to ``jobs`` trainings at once, in plan order as far as their
    dependencies allow: an export waits for the trainings before it (its
    teacher's), a run that needs a teacher waits for that teacher's export.
    After a failure no new run starts (unless ``keep_going``); the running
    ones finish. Returns the number of failed runs.

    Raises:
        RuntimeError: A run failed and ``keep_going`` is False.
    """
    pending = [s for s in steps if s.kind != 'skip']
    for step in steps:
        if step.kind == 'skip':
            print(f'[benchmark] {step.text}', flush=True)
    # the teachers whose weights exist already (their export step is absent)
    exporting = {s.teacher for s in pending if s.kind == 'export'}
    exported = set()
    running: Dict[subprocess.Popen, Step] = {}
    failures, failed_text = 0, None

    def ready(step: Step) -> bool:
        if step.kind == 'export':  # once its teacher's training has ended
            return not any(s.kind == 'train' and s.teacher == step.teacher
                           for s in pending + list(running.values()))
        return step.needs is None or (step.needs in exported
                                      or step.needs not in exporting)

    while pending or running:
        for proc, step in list(running.items()):
            code = proc.poll()
            if code is None:
                continue
            del running[proc]
            status = 'done' if code == 0 else f'FAILED (exit {code})'
            print(f'[benchmark] {status}: {step.text}', flush=True)
            if code:
                failures += 1
                failed_text = (
                    failed_text or f'{step.text} failed (exit {code})')
        if failures and not keep_going:
            pending = []
        started = True
        while started and pending:
            started = False
            for index, step in enumerate(pending):
                if step.kind == 'train' and len(running) >= jobs:
                    continue
                if not ready(step):
                    continue
                pending.pop(index)
                print(f'[benchmark] {step.text}', flush=True)
                if step.kind == 'export':
                    try:
                        export(step.teacher)
                        exported.add(step.teacher)
                    except RuntimeError as err:  # its teacher run failed
                        print(f'[benchmark] {err}', flush=True)
                        failed_text = failed_text or str(err)
                        failures += 1
                        pending = [
                            s for s in pending if s.needs != step.teacher
                        ]
                else:
                    running[_launch(step, repo)] = step
                started = True
                break
        if running:
            time.sleep(poll_s)
    if failures and not keep_going:
        raise RuntimeError(failed_text)
    return failures

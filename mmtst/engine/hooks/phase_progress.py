"""Progress lines for TST's augmenter phases.

A phase runs whole passes over the training loader with only the augmenter
learning (30 passes in the paper's CIFAR configs: hours on a GPU). mmengine's
LoggerHook sees none of those steps, and its ETA counts student iterations
only. These lines report the phase like the student's iterations are
reported: running loss terms, lr, seconds per step, and two ETAs, one for
the phase and one for the whole run (the student iterations left at their
logged speed, plus the later phases' steps at the phase's speed).
"""
import datetime
import time
from typing import Callable, Dict, Optional


def logger_interval(runner, default: int = 50) -> int:
    """The LoggerHook's interval, so phases log as often as the student."""
    for hook in getattr(runner, 'hooks', None) or []:
        if type(hook).__name__ == 'LoggerHook':
            return max(1, int(getattr(hook, 'interval', default)))
    return default


def student_seconds_left(runner) -> Optional[float]:
    """The student iterations left times their mean logged duration (the
    IterTimerHook's ``train/time``); None before any was timed."""
    try:
        seconds = runner.message_hub.get_scalar('train/time').mean()
        left = runner.train_loop.max_iters - runner.iter
    except (AttributeError, KeyError):
        return None
    return max(0, left) * float(seconds)


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(round(seconds))))


class PhaseProgress:
    """Counts the steps of one phase and writes a progress line every
    ``interval`` steps (and at the last one).

    Args:
        runner: The runner (its logger, message hub and train loop).
        total_steps: Steps in this phase (passes x loader length).
        later_steps: Augmenter steps in the phases still to come.
        interval: Steps between lines. Defaults to the LoggerHook's.
    """

    def __init__(self,
                 runner,
                 total_steps: int,
                 later_steps: int = 0,
                 interval: Optional[int] = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.runner = runner
        self.total_steps = total_steps
        self.later_steps = later_steps
        self.interval = interval or logger_interval(runner)
        self.clock = clock
        self.start = clock()
        self.done = 0

    def step(self, where: str, running: Dict[str, float], lr: float) -> None:
        """Count one step; log ``running`` (the pass's mean loss terms so
        far) when the interval is reached."""
        self.done += 1
        if self.done % self.interval and self.done != self.total_steps:
            return
        per_step = (self.clock() - self.start) / self.done
        phase_left = per_step * (self.total_steps - self.done)
        student_left = student_seconds_left(self.runner)
        run_eta = (
            '' if student_left is None else ', run eta: ' +
            _clock(phase_left + per_step * self.later_steps + student_left))
        terms = ', '.join(f'{k}: {v:.4f}' for k, v in sorted(running.items()))
        self.runner.logger.info(
            f'TST augmenter {where} [{self.done}/{self.total_steps}] '
            f'{terms}, lr: {lr:.5f}, time: {per_step:.3f} s/step, '
            f'phase eta: {_clock(phase_left)}{run_eta}')

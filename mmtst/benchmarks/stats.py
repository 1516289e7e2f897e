"""Statistics over seeds: mean and standard deviation, and the paired
difference of two experiments with its 95% Student's t-interval."""
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple


def mean_std(values: Sequence[float]) -> Tuple[Optional[float], float]:
    """Mean and sample standard deviation (n - 1; 0.0 for one value)."""
    if not values:
        return None, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean)**2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


# Two-sided 95% quantiles of Student's t, t_{0.975, df}, df = 1..30.
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile_975(df: int) -> float:
    """t_{0.975, df}: the table up to 30 degrees of freedom, beyond it the
    Cornish-Fisher expansion around the normal quantile (error < 1e-3)."""
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}')
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959964
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) /
            (96 * df**2))


@dataclass
class PairedDifference:
    """``a - b`` over the seeds both have: mean, the 95% t-interval's
    half-width (None for one seed) and the seeds used."""
    mean: float
    half_width: Optional[float]
    seeds: List[int]

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def low(self) -> Optional[float]:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> Optional[float]:
        return None if self.half_width is None else self.mean + self.half_width

    def text(self) -> str:
        """``+0.45 [+0.12, +0.78]``; the mean alone for one seed."""
        if self.half_width is None:
            return f'{self.mean:+.2f}'
        return f'{self.mean:+.2f} [{self.low:+.2f}, {self.high:+.2f}]'

    @classmethod
    def from_dict(cls, data: dict) -> 'PairedDifference':
        """The inverse of :meth:`to_dict`."""
        return cls(data['mean'], data['half_width'], list(data['seeds']))

    def to_dict(self) -> dict:
        return dict(
            mean=self.mean,
            half_width=self.half_width,
            low=self.low,
            high=self.high,
            n=self.n,
            seeds=self.seeds)


def paired_difference(a: Dict[int, float],
                      b: Dict[int, float]) -> Optional[PairedDifference]:
    """The paired difference ``a[seed] - b[seed]`` over matching seeds, with
    a two-sided 95% t-interval (mean ± t_{0.975, n-1} * sd / sqrt(n)).
    None when no seed matches."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diffs = [a[s] - b[s] for s in seeds]
    mean, sd = mean_std(diffs)
    half = (
        t_quantile_975(len(diffs) - 1) * sd /
        math.sqrt(len(diffs)) if len(diffs) > 1 else None)
    return PairedDifference(mean, half, seeds)

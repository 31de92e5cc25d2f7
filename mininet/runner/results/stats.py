"""Paired statistics between two backends: mean difference, a t-based 95% CI, and an equivalence verdict.

The backends of one spec train the same repetitions (same data, initial parameters and batch order),
so their final metrics pair up repetition by repetition. For the differences d_1..d_n:

* mean difference and its 95% confidence interval ``mean ± t(0.975, n-1) * sd / sqrt(n)``;
* equivalence in the TOST sense: "equivalent" when the whole 95% CI lies inside ``(-margin, +margin)``
  (two one-sided tests at 2.5% each, a conservative TOST), "different" when it lies wholly outside,
  otherwise "inconclusive".

No scipy: Student's t quantile is computed here from the regularized incomplete beta function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from ..train.metrics import METRICS

CONFIDENCE = 0.95


# --------------------------------------------------------------------------- Student's t
def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz; Numerical Recipes' betacf)."""
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    # the continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on :func:`t_cdf`)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):  # the bracket halves each time: far below float resolution long before 200
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- margins
@dataclass(frozen=True)
class Margin:
    """An equivalence margin: absolute (in the metric's unit) or relative to the reference's mean."""

    value: float
    relative: bool = False

    def __post_init__(self) -> None:
        if not (self.value > 0 and math.isfinite(self.value)):
            raise ValueError(f"a margin must be a positive number, got {self.value}")

    def absolute(self, reference_mean: float) -> float:
        return self.value * abs(reference_mean) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"

    @classmethod
    def parse(cls, text: str) -> Margin:
        """``"0.5"`` (absolute) or ``"5%"`` (relative to the reference backend's mean)."""
        text = text.strip()
        relative = text.endswith("%")
        try:
            value = float(text[:-1] if relative else text)
        except ValueError:
            raise ValueError(f"margin {text!r} is not a number (e.g. 0.5, or 5% of the reference's mean)") from None
        return cls(value / 100 if relative else value, relative)


#: losses within 5% of the reference backend's mean loss; accuracies (in %) within 1 percentage point
DEFAULT_MARGINS: dict[str, Margin] = {
    "train_loss": Margin(0.05, relative=True),
    "test_loss": Margin(0.05, relative=True),
    "train_acc": Margin(1.0),
    "test_acc": Margin(1.0),
}
#: short names that set the margin of several metrics at once
MARGIN_GROUPS = {"loss": ("train_loss", "test_loss"), "acc": ("train_acc", "test_acc"),
                 "accuracy": ("train_acc", "test_acc"), **{m: (m,) for m in METRICS}}


def parse_margins(items: Sequence[str], base: dict[str, Margin] | None = None) -> dict[str, Margin]:
    """Margins from ``METRIC=VALUE`` items (``test_acc=0.5``, ``loss=2%``), over ``base`` (the defaults)."""
    margins = dict(DEFAULT_MARGINS if base is None else base)
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in MARGIN_GROUPS:
            raise ValueError(f"margin {item!r}: expected METRIC=VALUE with METRIC one of "
                             f"{', '.join(MARGIN_GROUPS)}")
        margin = Margin.parse(value)
        for metric in MARGIN_GROUPS[key]:
            margins[metric] = margin
    return margins


def margins_to_json(margins: dict[str, Margin]) -> dict[str, str]:
    return {m: str(margin) for m, margin in margins.items()}


def margins_from_json(doc: dict[str, str]) -> dict[str, Margin]:
    return {m: Margin.parse(text) for m, text in doc.items()}


# --------------------------------------------------------------------------- paired differences
VERDICTS = ("equivalent", "inconclusive", "different")


@dataclass(frozen=True)
class PairedDifference:
    """Summary of n paired differences (backend minus reference) of one metric."""

    n: int
    mean: float
    std: float
    low: float  # 95% confidence interval of the mean difference (nan when n < 2)
    high: float
    max_abs: float
    margin: float  # absolute equivalence margin
    margin_spec: Margin

    @property
    def verdict(self) -> str:
        """"equivalent" (CI inside ±margin), "different" (CI outside it), else "inconclusive"."""
        if self.n < 2 or math.isnan(self.low):
            return "inconclusive"
        if -self.margin < self.low and self.high < self.margin:
            return "equivalent"
        if self.low >= self.margin or self.high <= -self.margin:
            return "different"
        return "inconclusive"


def paired_difference(values: Sequence[float], reference: Sequence[float], margin: Margin,
                      confidence: float = CONFIDENCE) -> PairedDifference | None:
    """Statistics of ``values[k] - reference[k]`` over the pairs where both are finite (None if none)."""
    pairs = [(v, r) for v, r in zip(values, reference) if math.isfinite(v) and math.isfinite(r)]
    n = len(pairs)
    if n == 0:
        return None
    diffs = [v - r for v, r in pairs]
    mean = math.fsum(diffs) / n
    ref_mean = math.fsum(r for _, r in pairs) / n
    if n > 1:
        std = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / (n - 1))
        half = t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
        low, high = mean - half, mean + half
    else:
        std = low = high = math.nan
    return PairedDifference(n, mean, std, low, high, max(abs(d) for d in diffs),
                            margin.absolute(ref_mean), margin)

"""Issue 6: paired statistics -- Student's t without scipy, confidence intervals, equivalence verdicts."""

from __future__ import annotations

import math

import pytest

from mininet.runner.results.stats import DEFAULT_MARGINS, Margin, paired_difference, parse_margins, t_cdf, t_quantile

# Student's t quantiles from published tables (R's qt, 15 significant digits)
T_TABLE = [
    (0.975, 1, 12.7062047361747), (0.975, 2, 4.30265272974946), (0.975, 3, 3.18244630528371),
    (0.975, 5, 2.57058183563631), (0.975, 10, 2.22813885198627), (0.975, 19, 2.09302405440831),
    (0.975, 30, 2.04227245630124), (0.975, 120, 1.97993040508242), (0.95, 3, 2.35336343480182),
    (0.995, 7, 3.49948329735051), (0.9, 1, 3.07768353717525),
]


@pytest.mark.parametrize("p, df, expected", T_TABLE)
def test_t_quantile_matches_the_tables(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-12)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, rel=1e-12)
    assert t_cdf(expected, df) == pytest.approx(p, abs=1e-13)


@pytest.mark.parametrize("p", [0.55, 0.6, 0.8, 0.975, 0.999])
def test_t_matches_closed_forms(p):
    # df 1 (Cauchy) and 2 have closed-form quantiles; df 4 a closed-form CDF
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
    t = t_quantile(p, 4)
    u = t * t / (4 + t * t)
    assert 0.5 + 0.375 * math.sqrt(u) * 2 * (1 - u / 3) == pytest.approx(p, abs=1e-14)


def test_t_quantile_tends_to_the_normal_one():
    z, df = 1.959963984540054, 1e5  # Cornish-Fisher: t = z + (z^3 + z) / 4df + (5z^5 + 16z^3 + 3z) / 96df^2 + ...
    expected = z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    assert t_quantile(0.975, df) == pytest.approx(expected, rel=1e-10)
    assert t_quantile(0.5, 7) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


def test_confidence_interval_by_hand():
    # differences 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), half-width t(0.975, 3) * sd / 2
    s = paired_difference([2, 4, 6, 8], [1, 2, 3, 4], Margin(10))
    half = 3.18244630528371 * math.sqrt(5 / 3) / 2
    assert (s.n, s.mean, s.max_abs) == (4, 2.5, 4)
    assert s.std == pytest.approx(math.sqrt(5 / 3), rel=1e-15)
    assert (s.low, s.high) == (pytest.approx(2.5 - half, rel=1e-12), pytest.approx(2.5 + half, rel=1e-12))
    assert s.verdict == "equivalent"


@pytest.mark.parametrize("diffs, margin, verdict", [
    ([0.0, 0.0, 0.0], 0.1, "equivalent"),        # identical backends: a zero-width CI at 0
    ([0.01, -0.01, 0.02, 0.0], 0.1, "equivalent"),
    ([1.0, 1.1, 0.9, 1.0], 0.1, "different"),    # the whole CI beyond +margin
    ([-1.0, -1.1, -0.9], 0.1, "different"),
    ([0.0, 0.2, -0.2, 0.1], 0.1, "inconclusive"),  # the CI straddles the margin
    ([0.0], 0.1, "inconclusive"),                # one pair: no interval
])
def test_verdicts(diffs, margin, verdict):
    assert paired_difference(diffs, [0.0] * len(diffs), Margin(margin)).verdict == verdict


def test_non_finite_pairs_are_left_out_and_relative_margins_scale_with_the_reference():
    s = paired_difference([1.0, math.nan, 2.0, 3.0], [1.0, 1.0, math.inf, 3.0], Margin(0.05, relative=True))
    assert s.n == 2 and s.mean == 0.0
    assert s.margin == pytest.approx(0.05 * 2.0)  # 5% of the reference's mean over the kept pairs
    assert paired_difference([math.nan], [1.0], Margin(1)) is None


def test_margins_parse_by_metric_or_group():
    margins = parse_margins(["loss=2%", "test_acc=0.25"])
    assert margins["train_loss"] == margins["test_loss"] == Margin(0.02, relative=True)
    assert margins["test_acc"] == Margin(0.25) and margins["train_acc"] == DEFAULT_MARGINS["train_acc"]
    assert str(margins["test_loss"]) == "2%" and Margin.parse(str(margins["test_loss"])) == margins["test_loss"]
    for bad in ("loss", "speed=1", "acc=fast", "acc=0", "acc=-1"):
        with pytest.raises(ValueError):
            parse_margins([bad])


def test_bad_margin_on_the_command_line(tmp_path):
    from results_helpers import invoke, write_spec

    result = invoke("compare", write_spec(tmp_path), "--margin", "speed=1", "--no-save")
    assert result.exit_code == 2 and "METRIC=VALUE" in result.stderr

"""The funnel plot control limits (``marts.funnel_limits``), checked against values
computed here with scipy's exact distributions, on the warehouse the pipeline
publishes from the sample (so the model is part of the normal ``dbt build``), and on
hand-made cases run through the project's own macros with ``dbt show``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
Z95 = stats.norm.ppf(0.975)
Z998 = stats.norm.ppf(0.999)
LEVELS = (("95", 0.025), ("998", 0.001))
FLAGS = {"above_998", "above_95", "within", "below_95", "below_998"}


@pytest.fixture(scope="module")
def funnel(sample_warehouse: Path) -> pd.DataFrame:
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        return con.execute("select * from marts.funnel_limits").df()
    finally:
        con.close()


def with_figures(funnel: pd.DataFrame, distribution: str) -> pd.DataFrame:
    rows = funnel[
        (funnel["distribution"] == distribution) & funnel["target"].notna() & funnel["value"].notna()
    ]
    assert len(rows) > 100
    return rows.reset_index(drop=True)


def spiegelhalter_limit(dist, p: float | np.ndarray) -> np.ndarray:
    """The exact p-quantile of a count, interpolated as in Spiegelhalter (2005): r - a,
    r the smallest count with P(X <= r) >= p, a = (P(X <= r) - p) / P(X = r)."""
    r = dist.ppf(p)
    upto = dist.cdf(r)
    return r - (upto - p) / (upto - dist.cdf(r - 1))


# --------------------------------------------------------------------------- in the build


def test_the_mart_is_built_with_every_measure_and_every_force(funnel, sample_warehouse):
    assert set(funnel["measure"]) == {"rate_per_1000", "outcome_share", "stalking_share", "conviction_ratio"}
    assert set(funnel["flag"].dropna()) <= FLAGS and set(funnel["flag_adjusted"].dropna()) <= FLAGS
    assert (
        funnel["distribution"] == np.where(funnel["measure"] == "rate_per_1000", "poisson", "binomial")
    ).all()
    assert (funnel["multiplier"] == np.where(funnel["measure"] == "rate_per_1000", 1000, 1)).all()
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        (latest,) = con.execute("select max(period_end) from marts.recording_practice").fetchone()
        (forces,) = con.execute(
            "select count(*) from reference.forces where has_resident_population"
        ).fetchone()
        national_rate = con.execute(
            "select rate_per_1000 from marts.recorded_crime_12m "
            "where area_code = 'K04000001' and offence_group = 'stalking' and period_end = ?",
            [latest],
        ).fetchone()[0]
    finally:
        con.close()
    rates = funnel[
        (funnel["measure"] == "rate_per_1000")
        & (funnel["offence_group"] == "stalking")
        & (funnel["period_end"] == pd.Timestamp(latest))
    ]
    # Every territorial force (British Transport Police has no residents), against England and Wales.
    assert forces == 43 and len(rates) == 43 and "BTP" not in set(rates["area_code"])
    assert rates["target"].to_numpy() == pytest.approx(national_rate, rel=1e-12)
    shares = funnel[(funnel["measure"] == "stalking_share") & (funnel["period_end"] == pd.Timestamp(latest))]
    assert len(shares) == 44 and "BTP" in set(shares["area_code"])
    assert (shares["value"] == shares["numerator"] / shares["denominator"]).all()


# --------------------------------------------------------------------------- limits against scipy


@pytest.mark.parametrize("level, tail", LEVELS)
def test_poisson_limits_are_the_exact_quantiles_within_a_count(funnel, level, tail):
    rows = with_figures(funnel, "poisson")
    expected = rows["target"] / 1000 * rows["denominator"]
    exact = stats.poisson(expected)
    lower = rows[f"lower_{level}"] * rows["denominator"] / 1000
    upper = rows[f"upper_{level}"] * rows["denominator"] / 1000
    exact_lower = np.maximum(spiegelhalter_limit(exact, tail), 0)
    exact_upper = spiegelhalter_limit(exact, 1 - tail)
    # A mid-p limit: never inside the exact interpolated one, at most a count and a half beyond.
    assert ((lower - exact_lower).between(-1e-6, 1.5)).all()
    assert ((upper - exact_upper).between(-1e-6, 1.5)).all()
    assert (lower[exact.cdf(0) >= tail] == 0).all()


@pytest.mark.parametrize("level, tail", LEVELS)
def test_binomial_limits_are_the_exact_quantiles_within_a_count(funnel, level, tail):
    rows = with_figures(funnel, "binomial")
    n, p = rows["denominator"].to_numpy(), rows["target"].to_numpy()
    exact = stats.binom(n, p)
    lower = rows[f"lower_{level}"] * n
    upper = rows[f"upper_{level}"] * n
    exact_lower = np.maximum(spiegelhalter_limit(exact, tail), 0)
    exact_upper = np.minimum(spiegelhalter_limit(exact, 1 - tail), n)
    assert ((lower - exact_lower).between(-1e-6, 1.5)).all()
    assert ((upper - exact_upper).between(-1e-6, 1.5)).all()


def test_limits_tend_to_the_normal_ones_at_large_volume(funnel):
    for distribution in ("poisson", "binomial"):
        rows = with_figures(funnel, distribution)
        p = rows["target"] / rows["multiplier"]
        n = rows["denominator"]
        variance = n * p if distribution == "poisson" else n * p * (1 - p)
        large = rows[variance > 10_000]
        assert len(large) > 10
        se = np.sqrt(variance[large.index]) / n[large.index] * large["multiplier"]
        for level, z in (("95", Z95), ("998", Z998)):
            assert np.allclose(large[f"upper_{level}"], large["target"] + z * se, rtol=0, atol=0.01 * z * se)
            assert np.allclose(large[f"lower_{level}"], large["target"] - z * se, rtol=0, atol=0.01 * z * se)


def test_a_flag_is_what_the_exact_test_says(funnel):
    """Flagged at 99.8% only when scipy's exact one-sided p-value is below 0.002 (0.06
    at 95%), and never within the limits when it is below 0.0025."""
    for distribution in ("poisson", "binomial"):
        rows = with_figures(funnel, distribution)
        k, n = rows["numerator"].to_numpy(), rows["denominator"].to_numpy()
        if distribution == "poisson":
            exact = stats.poisson(rows["target"].to_numpy() / 1000 * n)
        else:
            exact = stats.binom(n, rows["target"].to_numpy())
        high, low = exact.sf(k - 1), exact.cdf(k)
        for column in ("flag", "flag_adjusted"):
            flags = rows[column]
            assert high[flags == "above_998"].max(initial=0) < 0.002
            assert low[flags == "below_998"].max(initial=0) < 0.002
            assert high[flags == "above_95"].max(initial=0) < 0.06
            assert low[flags == "below_95"].max(initial=0) < 0.06
        within = (rows["flag"] == "within").to_numpy()
        assert within.any() and (np.minimum(high, low)[within] >= 0.0025).all()


def test_a_tiny_count_is_not_flagged_on_a_relative_difference_it_cannot_support(funnel):
    """Forces with a handful of events, several times (or a fraction of) the target,
    that the exact test does not find unusual, are within the 99.8% limits."""
    rows = with_figures(funnel, "poisson")
    expected = rows["target"] / 1000 * rows["denominator"]
    exact = stats.poisson(expected)
    tiny = rows[
        (expected < 5)
        & ((rows["value"] >= 3 * rows["target"]) | (rows["value"] <= rows["target"] / 3))
        & (np.minimum(exact.sf(rows["numerator"] - 1), exact.cdf(rows["numerator"])) > 0.002)
    ]
    assert len(tiny) >= 3, "the sample should hold small counts far from the target"
    assert not tiny["flag"].isin(["above_998", "below_998"]).any()
    assert not tiny["flag_adjusted"].isin(["above_998", "below_998"]).any()
    # No events at all where about one was expected is no evidence of anything.
    binomial = with_figures(funnel, "binomial")
    none = binomial[(binomial["numerator"] == 0) & (binomial["denominator"] * binomial["target"] < 3)]
    assert len(none) > 0 and (none["flag"] == "within").all()


# --------------------------------------------------------------------------- intervals and dispersion


def test_each_force_interval_is_exact_poisson_or_wilson(funnel):
    rates = with_figures(funnel, "poisson")
    count, n = rates["numerator"], rates["denominator"]
    # Exact Poisson limits are chi-square quantiles; the mart's approximation is within 2% at any count.
    exact_lower = np.where(count > 0, stats.chi2.ppf(0.025, 2 * count) / 2, 0)
    exact_upper = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    assert np.allclose(rates["ci_lower_95"] * n / 1000, exact_lower, rtol=0.02, atol=0.02)
    assert np.allclose(rates["ci_upper_95"] * n / 1000, exact_upper, rtol=0.003, atol=0.02)
    shares = with_figures(funnel, "binomial")
    k, n = shares["numerator"].to_numpy(), shares["denominator"].to_numpy()
    p = k / n
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2))
    centre = p + Z95**2 / (2 * n)
    assert np.allclose(shares["ci_lower_95"], (centre - half) / (1 + Z95**2 / n), atol=1e-12)
    assert np.allclose(shares["ci_upper_95"], (centre + half) / (1 + Z95**2 / n), atol=1e-12)
    assert (shares["ci_lower_95"] <= shares["value"]).all() and (
        shares["value"] <= shares["ci_upper_95"]
    ).all()


def test_over_dispersion_follows_spiegelhalter(funnel, sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        territorial = {
            code
            for (code,) in con.execute(
                "select area_code from reference.forces where has_resident_population"
            ).fetchall()
        }
    finally:
        con.close()
    checked = large_checked = 0
    for (measure, _offence, _category, period), rows in funnel[funnel["z_score"].notna()].groupby(
        ["measure", "offence_group", "category", "period_end"]
    ):
        if measure not in ("rate_per_1000", "stalking_share") or period.month != 12:
            continue
        reference = rows[rows["area_code"].isin(territorial)]
        p = reference["target"] / reference["multiplier"]
        n = reference["denominator"]
        s = np.sqrt(p / n if measure == "rate_per_1000" else p * (1 - p) / n) * reference["multiplier"]
        z = (reference["value"] - reference["target"]) / s
        winsorised = z.clip(np.quantile(z, 0.1), np.quantile(z, 0.9))
        k = len(z)
        phi = float(np.mean(winsorised**2))
        w = 1 / s**2
        tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
        assert rows["forces_in_estimate"].iloc[0] == k
        assert rows["dispersion_ratio"].iloc[0] == pytest.approx(phi, rel=1e-9)
        assert rows["tau_squared"].iloc[0] == pytest.approx(tau2, rel=1e-9, abs=1e-15)
        assert bool(rows["is_overdispersed"].iloc[0]) == (tau2 > 0)
        # The adjusted limits widen each limit's distance from the target by sqrt(1 + tau^2 / s^2).
        widen = np.sqrt(1 + tau2 / s**2)
        for level in ("95", "998"):
            upper = reference["target"] + (reference[f"upper_{level}"] - reference["target"]) * widen
            lower = reference["target"] - (reference["target"] - reference[f"lower_{level}"]) * widen
            if measure == "stalking_share":
                upper = upper.clip(upper=1)
            assert np.allclose(reference[f"upper_{level}_adjusted"], upper, rtol=1e-9)
            assert np.allclose(
                reference[f"lower_{level}_adjusted"], lower.clip(lower=0), rtol=1e-9, atol=1e-12
            )
            if tau2 > 0:
                # At large volume they are the paper's target +/- z sqrt(s^2 + tau^2).
                z_level = Z95 if level == "95" else Z998
                variance = n * p if measure == "rate_per_1000" else n * p * (1 - p)
                big = variance > 2500
                paper = z_level * np.sqrt(s**2 + tau2)
                distance = reference[f"upper_{level}_adjusted"] - reference["target"]
                assert np.allclose(distance[big], paper[big], rtol=0.02)
                large_checked += int(big.sum())
        checked += 1
    assert checked >= 4 and large_checked > 10
    # The sample's forces differ by more than chance, as real forces do.
    rates = funnel[funnel["measure"] == "rate_per_1000"]
    assert rates["is_overdispersed"].mean() > 0.5


# --------------------------------------------------------------------------- hand-made cases


def dbt_show(sql: str) -> list[dict]:
    """``sql`` (with the project's macros) run by ``dbt show`` on an in-memory database."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("HSINSIGHT_DB", None)
    target = Path(os.environ.get("PYTEST_TMP", "/tmp")) / f"funnel-dbt-{os.getpid()}"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "show", "--inline", sql,
            "--output", "json", "--log-format", "json", "--limit", "100",
            "--profiles-dir", str(DBT_PROJECT), "--project-dir", str(DBT_PROJECT),
            "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
        ],
        capture_output=True, text=True, env=env, cwd=DBT_PROJECT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for line in result.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        preview = event.get("data", {}).get("preview")
        if preview:
            return json.loads(preview)
    raise AssertionError(f"no preview in dbt's output:\n{result.stdout[-3000:]}")


def test_hand_made_forces_small_and_large(tmp_path, monkeypatch):
    """0.4 stalking crimes expected and 3 recorded (7 times the target): within the
    99.8% limits, as the exact test says (p = 0.008). 5,000 expected and 5,300 recorded
    (6% more): above them (p < 0.0001). The same for shares."""
    monkeypatch.setenv("PYTEST_TMP", str(tmp_path))
    z = Z998
    cases = "(values ('small_rate', 3, 0.4), ('large_rate', 5300, 5000.0)) as cases(name, observed, expected)"
    shares = "(values ('small_share', 3, 8, 0.1), ('large_share', 1100, 10000, 0.1)) as s(name, k, n, p)"
    sql = f"""
        select name, upper_limit, {{{{ funnel_flag('observed', '0', 'upper_limit', '0', 'upper_limit') }}}} as flag
        from (
            select name, observed * 1.0 as observed,
                {{{{ quantile_count('expected', 'expected', '1', {z}) }}}} as upper_limit
            from {cases}
            union all
            select name, k * 1.0,
                {{{{ quantile_count('n * p', 'n * p * (1 - p)', '1 - 2 * p', {z}) }}}}
            from {shares}
        )
        order by name
    """
    got = {row["name"]: row for row in dbt_show(sql)}
    assert got["small_rate"]["flag"] == "within" and stats.poisson.sf(2, 0.4) > 0.005
    assert got["large_rate"]["flag"] == "above_998" and stats.poisson.sf(5299, 5000) < 1e-4
    assert got["small_share"]["flag"] == "within" and stats.binom.sf(2, 8, 0.1) > 0.03
    assert got["large_share"]["flag"] == "above_998" and stats.binom.sf(1099, 10000, 0.1) < 1e-3
    # The limits themselves, against scipy's exact quantiles.
    assert got["small_rate"]["upper_limit"] == pytest.approx(stats.poisson.ppf(0.999, 0.4), abs=1.5)
    assert got["large_rate"]["upper_limit"] == pytest.approx(stats.poisson.ppf(0.999, 5000), abs=1.5)
    assert got["large_share"]["upper_limit"] == pytest.approx(stats.binom.ppf(0.999, 10000, 0.1), abs=1.5)

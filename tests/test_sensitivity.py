"""Sensitivity analysis: SALib's methods checked against the Ishigami function's known indices,
their honesty checks (convergence, replicate noise), and every design on real (tiny) sweeps."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from popsim import cli
from popsim.cli import sweep as sweep_cli
from popsim.experiments import sensitivity, sweep, sweep_spec
from popsim.experiments import sensitivity_methods as sm
from popsim.experiments.sweep_design import sample_unit_cube

# ------------------------------------------------------------------------------------------------
# The analysis layer on an analytic function: Ishigami (a = 7, b = 0.1) on [-pi, pi]^3 has
# the analytic indices S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) (Ishigami & Homma
# 1990; the function of every sensitivity-analysis test suite, SALib's included).

NAMES = ["x1", "x2", "x3"]
S1 = np.array([0.3139, 0.4424, 0.0])
ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * np.asarray(u)
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_recovers_ishigami_and_says_it_converged():
    u = sample_unit_cube("sobol", 2048, 3, seed=7)
    res = sm.sobol(ishigami(u), NAMES, seed=3)
    np.testing.assert_allclose(res["S1"].values, S1, atol=0.06)
    np.testing.assert_allclose(res["ST"].values, ST, atol=0.06)
    assert bool(res["converged"]) and json.loads(res.attrs["warnings"]) == []


def test_sobol_with_few_samples_is_flagged_not_converged():
    res = sm.sobol(ishigami(sample_unit_cube("sobol", 8, 3, seed=7)), NAMES, seed=3)
    warn = json.loads(res.attrs["warnings"])
    assert not bool(res["converged"]) and warn
    assert all(any(k in w for k in ("exceeds 1", "negative", "interval wider")) for w in warn)


def test_the_checks_catch_each_sign_of_non_convergence():
    est = np.array([1.18, -0.3, 0.2, 0.01, 0.5])
    conf = np.array([1.65, 0.1, 0.35, 0.03, 0.08])
    warn = sm._variance_checks(list("abcde"), est, conf, "ST")
    assert warn[0] == "ST(a) = 1.18 +- 1.65 exceeds 1"  # the example sobol_levers reported
    assert "ST(b) = -0.30 +- 0.10 is negative beyond its interval" in warn
    assert "ST(c) = 0.20 +- 0.35: interval wider than the estimate" in warn
    assert len(warn) == 3  # d is pinned near zero, e is precise: neither is flagged


def test_morris_ranks_ishigami_and_sees_x3_only_through_interactions():
    u = sample_unit_cube("morris", 200, 3, seed=7, levels=4)
    res = sm.morris(u, ishigami(u), NAMES, seed=3)
    mu_star, mu, sigma = (res[k].values for k in ("mu_star", "mu", "sigma"))
    assert mu_star.min() > 3  # all three matter (x3 through x1)
    assert abs(mu[2]) < 0.3 * mu_star[2]  # x3's effects cancel: mu small, mu* large
    assert sigma[2] > mu_star[2]  # and vary with x1: interaction
    assert res.attrs["trajectories"] == 200


def test_efast_and_rbd_fast_recover_ishigami():
    u = sample_unit_cube("fast", 1000, 3, seed=7, m=4)
    res = sm.efast(ishigami(u), NAMES, m=4, seed=3)
    np.testing.assert_allclose(res["S1"].values, S1, atol=0.05)
    np.testing.assert_allclose(res["ST"].values, ST, atol=0.07)
    assert any("FAST confidence intervals" in n for n in json.loads(res.attrs["notes"]))
    u = sample_unit_cube("lhs", 2000, 3, seed=7)
    res = sm.rbd_fast(u, ishigami(u), NAMES, seed=3)
    np.testing.assert_allclose(res["S1"].values, S1, atol=0.05)


def test_delta_and_pawn_rank_ishigami_and_know_their_floor():
    u = sample_unit_cube("lhs", 1500, 3, seed=7)
    y = ishigami(u)
    res = sm.delta(u, y, NAMES, seed=3)
    d = res["delta"].values
    # Borgonovo's delta ranks Ishigami's inputs x2 > x1 > x3, all well above a dummy input that
    # the output cannot depend on (the estimator's floor at this sample size)
    assert d[1] > d[0] > d[2] > 2 * res.attrs["delta_dummy"] and d.max() < 0.5
    assert bool(res["converged"])
    res = sm.pawn(u, y, NAMES)
    med = res["pawn_median"].values
    assert med[1] > med[0] > med[2] > res.attrs["ks_critical"] / 2
    assert res.attrs["ks_critical"] < med[0]


def test_salib_leaves_no_global_random_state_or_warning_filter():
    import warnings

    before = np.random.get_state()[1].copy()
    filters = list(warnings.filters)
    u = sample_unit_cube("lhs", 300, 3, seed=7)
    a = sm.delta(u, ishigami(u), NAMES, seed=5)
    b = sm.delta(u, ishigami(u), NAMES, seed=5)
    xr.testing.assert_identical(a, b)  # seeded: the same analysis twice
    sm.efast(ishigami(sample_unit_cube("fast", 100, 3, seed=7)), NAMES)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert warnings.filters == filters


def test_the_command_line_lists_every_method():
    assert sweep_cli.SENSITIVITY_METHODS == list(sm.METHODS)


# ------------------------------------------------------------------------------------------------
# Real (tiny) sweeps

TINY = """
"run.households" = 1000
"run.start_year" = 2000
"run.end_year" = 2001
"run.burn_in_years" = 5
"""

# Enforcement cost is driven by inspections (their unit cost) and hardly by propaganda's reach;
# propaganda cost the other way round. The analyses must find that, whatever the noise.
LEVERS = """
"enforcement.inspections_per_month" = { min = 0, max = 60 }
"propaganda.reach" = { min = 0.0, max = 0.2 }
"""
OUTPUTS = """
[outputs]
resolution = "end_year"
summary_years = 2
variables = ["srb", "srb_by_parity", "enforcement_cost", "propaganda_cost", "total_cost"]
"""


def _sweep(folder, design: str, replicates: int = 1):
    text = f"scenario = \"county\"\nseed = 9\nreplicates = {replicates}\n[overrides]\n{TINY}\n" \
           f"[parameters]\n{LEVERS}\n[design]\n{design}\n{OUTPUTS}"
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    store = folder / "sweep.zarr"
    sweep.run_sweep(sweep_spec.load_spec(path), store, workers=1, progress=False)
    return store


@pytest.fixture(scope="module")
def sobol_store(tmp_path_factory):
    """Saltelli design, n = 4, two parameters, second order: 4 x (2 x 2 + 2) = 24 runs."""
    return _sweep(tmp_path_factory.mktemp("sobol"), 'kind = "sobol"\nn = 4\nsecond_order = true')


@pytest.fixture(scope="module")
def lhs_store(tmp_path_factory):
    """16 Latin-hypercube points, 2 replicates: 32 runs."""
    return _sweep(tmp_path_factory.mktemp("lhs"), 'kind = "lhs"\nn = 16', replicates=2)


def test_sobol_indices_shape_ranking_and_honesty(sobol_store):
    ds = sweep.open_sweep(sobol_store)
    assert ds.sizes["run"] == 24
    res = sensitivity.analyze(ds, "enforcement_cost")
    assert res.attrs["method"] == "sobol"
    params = ["enforcement.inspections_per_month", "propaganda.reach"]
    assert res["parameter"].values.tolist() == params
    for name in ("S1", "S1_conf", "ST", "ST_conf"):
        assert res[name].dims == ("parameter",) and res[name].shape == (2,)
    assert res["S2"].shape == (2, 2) and res["S2_conf"].shape == (2, 2)
    st = res["ST"].values
    # Inspections carry the variance of enforcement cost, propaganda's reach next to none
    assert st[0] > 0.1 and st[1] < st[0] / 2
    flipped = sensitivity.analyze(ds, "propaganda_cost")["ST"].values
    assert flipped[1] > 0.1 and flipped[0] < flipped[1] / 2
    # one replicate: the noise cannot be measured, and the result says so
    assert not bool(res["noise_small"]) and np.isnan(res["noise_share"].values).all()
    assert "cannot be measured" in json.loads(res.attrs["noise_warnings"])[0]


def test_sensitivity_command_warns_when_not_converged(sobol_store, tmp_path, capsys):
    png = tmp_path / "bars.png"
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "total_cost", "--out",
                     str(png)]) == 0
    out = capsys.readouterr().out
    assert "Sobol indices" in out and "moment-independent delta" in out and "PAWN" in out
    assert "WARNING: Sobol indices (Saltelli sampling) not converged (n = 4 base samples" in out
    assert "WARNING: 1 replicate: the share of seed noise" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scatter = tmp_path / "scatter.png"
    assert cli.main(["plot", str(sobol_store), "--outcome", "srb_by_parity", "--select",
                     "parity=1", "--out", str(scatter)]) == 0
    assert scatter.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lhs_gets_regression_rbd_fast_delta_and_pawn(lhs_store):
    ds = sweep.open_sweep(lhs_store)
    results = sensitivity.analyses(ds, "propaganda_cost")
    assert [r.attrs["method"] for r in results] == ["regression", "rbd_fast", "delta", "pawn"]
    reg, rbd, delta, pawn = results
    src, conf = np.abs(reg["src"].values), reg["src_conf"].values
    # the reach drives propaganda cost, positively, well beyond the bootstrap spread
    assert reg["src"].values[1] > 0 and src[1] - conf[1] > src[0] + conf[0]
    assert rbd["S1"].values[1] > rbd["S1"].values[0]
    assert pawn["pawn_median"].values[1] > pawn["pawn_median"].values[0]
    # 16 design points are too few for delta's classes of ten: said, not hidden
    assert np.isnan(delta["delta"].values).all() and not bool(delta["converged"])
    assert "delta is undefined with 16 design points" in json.loads(delta.attrs["warnings"])[0]
    text = sensitivity.report(results)
    assert text.index("propaganda.reach") < text.index("enforcement.inspections")
    with pytest.raises(sweep_spec.SpecError, match="need a sobol design"):
        sensitivity.analyze(ds, "propaganda_cost", method="sobol")


def test_noise_share_of_every_output(lhs_store, capsys):
    ds = sweep.open_sweep(lhs_store).load()
    noise = sensitivity.noise_shares(ds)
    outputs = noise["output"].values.tolist()
    assert {"srb", "enforcement_cost", "propaganda_cost", "total_cost"} <= set(outputs)
    assert {f"srb_by_parity[parity={p}]" for p in ds["parity"].values} <= set(outputs)
    # by hand: mean over points of the variance across replicates / variance over all runs
    srb = ds["srb"].values  # run x replicate
    expected = srb.var(axis=1).mean() / srb.var()
    assert float(noise["noise_share"].sel(output="srb")) == pytest.approx(expected)
    # enforcement cost is fixed by the inspections: no seed noise; the SRB of a small county is
    # mostly noise, and the command says so for the analysed outcome
    assert float(noise["noise_share"].sel(output="enforcement_cost")) < 0.01
    assert float(noise["noise_share_of_mean"].sel(output="srb")) > sensitivity.NOISE_WARN
    assert cli.main(["sensitivity", str(lhs_store), "--no-plot", "--method", "regression"]) == 0
    out = capsys.readouterr().out
    assert "replicate noise share" in out and "<- analysed" in out
    assert "WARNING: replicate noise is" in out and "of the replicate means of Sex ratio" in out
    res = sensitivity.analyze(ds, "srb")
    assert not bool(res["noise_small"]) and res["noise_share"].dims == ("output",)


@pytest.mark.parametrize("design, rows, method", [
    ('kind = "morris"\nn = 4', 12, "morris"),
    ('kind = "fast"\nn = 9\nm = 1', 18, "fast"),
])
def test_morris_and_fast_designs_find_the_driving_lever(tmp_path, design, rows, method):
    ds = sweep.open_sweep(_sweep(tmp_path, design))
    assert ds.sizes["run"] == rows and ds.attrs["design"] == method
    key = sm.METHODS[method].key
    cost = sensitivity.analyze(ds, "enforcement_cost")
    assert cost.attrs["method"] == method
    assert cost[key].values[0] > 5 * abs(cost[key].values[1])  # inspections drive the cost
    pay = sensitivity.analyze(ds, "propaganda_cost")
    assert pay[key].values[1] > 5 * abs(pay[key].values[0])  # the reach drives its cost
    if method == "morris":  # in yuan per full range: the cost of 60 more inspections a month
        assert cost["mu_star"].values[0] == pytest.approx(
            float(ds["enforcement_cost"].max() - ds["enforcement_cost"].min()), rel=0.2)


def test_sensitivity_bad_outcomes_exit_2(sobol_store, capsys):
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "srb_by_parity"]) == 2
    assert "--select parity=VALUE" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "tfr"]) == 2
    assert "no variable 'tfr'" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(sobol_store), "--year", "2001"]) == 2
    assert "end-year summaries" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(sobol_store), "--method", "morris"]) == 2
    assert "need a morris design; this sweep is a sobol design" in capsys.readouterr().err


def test_noise_of_the_means_discounts_the_offsets_common_random_numbers_share():
    """Each seed shifts every design point alike (common random numbers): that offset is most of
    the variance across replicates, yet it cancels between points; what is left is small."""
    rng = np.random.default_rng(0)
    points, reps = 40, 4
    effect = np.linspace(0, 1, points)[:, None]
    offset = rng.normal(0, 3, (1, reps))  # the seed's shared shift
    y = effect + offset + rng.normal(0, 0.05, (points, reps))
    ds = xr.Dataset({"y": (("run", "replicate"), y)},
                    coords={"run": np.arange(points), "replicate": np.arange(reps)},
                    attrs={"parameters": "[]"})
    noise = sensitivity.noise_shares(ds)
    assert float(noise["noise_share"].sel(output="y")) > 0.8  # seeds dominate single runs
    # the means' residual noise: 0.05^2 / 4 over the variance of the effects (about 1/12)
    assert float(noise["noise_share_of_mean"].sel(output="y")) == pytest.approx(
        0.05**2 / reps / np.var(effect, ddof=1), rel=0.5)

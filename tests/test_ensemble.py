"""Posteriors and ensembles (:mod:`popsim.experiments.ensemble`): the file, its checks, the
draws and their pairing across scenarios, and the spread an ensemble adds to a projection."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import popsim
from popsim.errors import InputError
from popsim.experiments.ensemble import (POSTERIOR_FORMAT, Posterior, PosteriorError,
                                         ensemble_scenarios, posterior_dataset, read_posterior,
                                         write_posterior)
from popsim.io import write_netcdf
from popsim.model.streams import replicate_seeds
from popsim.scenario.loader import load_scenario

PARAMS = ("behaviour.seek_motivation", "behaviour.concealment")
VALUES = [[6.0, 0.01], [10.0, 0.03], [8.0, 0.02], [7.0, 0.05]]
WEIGHTS = [0.1, 0.2, 0.3, 0.4]


def _posterior_file(tmp_path, name="post.nc", **kw) -> object:
    ds = posterior_dataset(kw.get("parameters", PARAMS), kw.get("values", VALUES),
                           kw.get("weights", WEIGHTS),
                           attrs={"method": "test", "spec": "[calibrate]\n", "seed": 3},
                           extra=kw.get("extra"))
    return write_posterior(ds, tmp_path / name)


def _raw_file(tmp_path, parameters, values, weights, name="raw.nc", attrs=None):
    """A file of the posterior layout written without posterior_dataset's checks."""
    ds = xr.Dataset({"value": (("sample", "parameter"), np.array(values, dtype=float)),
                     "weight": ("sample", np.array(weights, dtype=float))},
                    coords={"sample": np.arange(len(values)),
                            "parameter": np.array(parameters, dtype=object)},
                    attrs={"popsim_format": POSTERIOR_FORMAT} if attrs is None else attrs)
    return write_netcdf(ds, tmp_path / name)


# ------------------------------------------------------------------------------------------------
# the file


def test_round_trip_through_a_real_netcdf_file(tmp_path):
    distance = xr.DataArray(np.array([0.5, 0.2, 0.3, 0.1]), dims="sample")
    path = _posterior_file(tmp_path, extra={"distance": distance})
    with xr.open_dataset(path, engine="netcdf4") as ds:
        assert ds.attrs["popsim_format"] == POSTERIOR_FORMAT
        assert ds["value"].dims == ("sample", "parameter") and ds["value"].dtype == np.float64
        assert list(ds["sample"].values) == [0, 1, 2, 3]
        np.testing.assert_array_equal(ds["distance"].values, distance.values)
    post = read_posterior(path)
    assert post.parameters == PARAMS and post.path == path and post.size == 4
    np.testing.assert_array_equal(post.values, np.array(VALUES))
    np.testing.assert_allclose(post.weights, WEIGHTS, rtol=0, atol=1e-15)
    assert post.attrs["method"] == "test" and post.attrs["seed"] == 3
    assert post.attrs["spec"] == "[calibrate]\n" and post.attrs["title"]
    # the digest is of the content, not of the file
    again = Posterior(PARAMS, np.array(VALUES), np.array(WEIGHTS))
    assert again.digest == post.digest
    assert Posterior(PARAMS, np.array(VALUES)[::-1], np.array(WEIGHTS)).digest != post.digest


def test_central_is_the_weighted_median(tmp_path):
    post = read_posterior(_posterior_file(tmp_path))
    # seek_motivation sorted 6 (0.1), 7 (0.4), 8 (0.3), 10 (0.2): cumulative 0.5 reached at 7
    # concealment sorted 0.01 (0.1), 0.02 (0.3), 0.03 (0.2), 0.05 (0.4): 0.6 at 0.03
    assert post.central() == {"behaviour.seek_motivation": 7.0, "behaviour.concealment": 0.03}


@pytest.mark.parametrize("make, needles", [
    (lambda d: d / "missing.nc", ["missing.nc", "no such file"]),
    (lambda d: d, ["not a file"]),
    (lambda d: (d / "text.nc").write_text("not netcdf") and d / "text.nc",
     ["text.nc", "cannot be read as netCDF"]),
    (lambda d: write_netcdf(xr.Dataset({"x": ("a", [1.0])}), d / "plain.nc"),
     ["plain.nc", "not a popsim posterior", "popsim_format is missing"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivaton"], [[1.0]], [1.0]),
     ["raw.nc", "no such parameter 'behaviour.seek_motivaton'",
      "did you mean 'behaviour.seek_motivation'"]),
    (lambda d: _raw_file(d, ["behaviour.concealment"], [[0.5], [1.5]], [0.5, 0.5]),
     ["raw.nc", "behaviour.concealment = 1.5 (sample 1)", "above the upper bound 1"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivation"], [[-2.0]], [1.0]),
     ["behaviour.seek_motivation = -2 (sample 0)", "below the lower bound 0"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivation"], [[1.0], [2.0]], [1.5, -0.5]),
     ["raw.nc", "weight of sample 1 is -0.5, below 0"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivation"], [[1.0], [2.0]], [0.0, 0.0]),
     ["raw.nc", "every weight is 0"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivation"], [[1.0], [2.0]], [np.nan, 1.0]),
     ["raw.nc", "weight of sample 0 is nan"]),
    (lambda d: _raw_file(d, ["behaviour.seek_motivation"], [[1.0], [2.0]], [0.3, 0.3]),
     ["weights sum to 0.6, not 1"]),
    (lambda d: _raw_file(d, ["run.households"], [[1000.0]], [1.0]),
     ["'run.households' is a run setting"]),
    (lambda d: _raw_file(d, ["policy.regime"], [[1.0]], [1.0]),
     ["'policy.regime' is not a number"]),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, make, needles):
    path = make(tmp_path)
    with pytest.raises(PosteriorError) as e:
        read_posterior(path)
    assert isinstance(e.value, InputError)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"posterior '{path}'"), message
    for n in needles:
        assert n in message, message


def test_posterior_dataset_checks_what_it_is_given():
    with pytest.raises(PosteriorError, match="did you mean 'behaviour.concealment'"):
        posterior_dataset(["behaviour.concealmnt"], [[0.1]], [1.0], attrs={})
    with pytest.raises(PosteriorError, match="appears twice"):
        posterior_dataset(PARAMS[:1] * 2, [[1.0, 2.0]], [1.0], attrs={})
    with pytest.raises(PosteriorError, match=r"shape \(4,\)"):
        posterior_dataset(PARAMS, VALUES, [1.0], attrs={})


# ------------------------------------------------------------------------------------------------
# draws


def test_draws_are_a_pure_function_of_k_and_seed(tmp_path):
    post = read_posterior(_posterior_file(tmp_path))
    same = Posterior(PARAMS, np.array(VALUES), np.array(WEIGHTS))
    assert post.draws(50, 7) == post.draws(50, 7) == same.draws(50, 7)
    assert post.draws(50, 7) != post.draws(50, 8)
    # more draws keep the earlier ones: adding replicates does not reshuffle the first ones
    assert post.draws(80, 7)[:50] == post.draws(50, 7)
    rows = {tuple(r) for r in VALUES}
    assert all(tuple(d.values()) in rows for d in post.draws(50, 7))
    with pytest.raises(InputError, match="--draws must be a whole number"):
        post.draws(0, 7)


def test_draws_follow_the_weights():
    weights = np.array([0.05, 0.15, 0.3, 0.5, 0.0])
    values = np.arange(5, dtype=float)[:, None]
    post = Posterior(("behaviour.seek_motivation",), values, weights)
    n = 20_000
    idx = post.draw_indices(n, 11)
    counts = np.bincount(idx, minlength=5)
    assert counts[4] == 0  # a sample of weight 0 is never drawn
    chi2 = stats.chisquare(counts[:4], n * weights[:4])
    assert chi2.pvalue > 1e-3, (counts, chi2)
    assert [d["behaviour.seek_motivation"] for d in post.draws(10, 11)] == list(idx[:10] * 1.0)


def test_ensemble_scenarios_apply_the_draws_and_pair_them(tmp_path):
    post = read_posterior(_posterior_file(tmp_path))
    county, baseline = load_scenario("county"), load_scenario("baseline")
    a = ensemble_scenarios(county, post, 12, 5)
    b = ensemble_scenarios(baseline, post, 12, 5)
    draws = post.draws(12, 5)
    assert len(a) == len(b) == 12
    for sa, sb, d in zip(a, b, draws):
        for p, v in d.items():
            assert sa.get(p) == sb.get(p) == v  # replicate i of both scenarios: draw i
        # everything else is the scenario's own
        assert sa.name == county.name and sa.policy == county.policy
        assert sb.propaganda == baseline.propaganda and sb.run == baseline.run
    assert len({s.behaviour.seek_motivation for s in a}) > 1
    assert ensemble_scenarios(county, post, 12, 6) != a


def test_a_lever_parameter_applies_only_to_the_calibrated_scenario(tmp_path):
    """A national history's calibrated programme intensity is not a county's package: lever
    parameters of a posterior act in the scenario it was calibrated on, behaviour everywhere."""
    params = ("behaviour.risk_weight", "enforcement.programme_intensity")
    ds = posterior_dataset(params, [[5.0, 0.3], [7.0, 0.4]], [0.5, 0.5],
                           attrs={"method": "test", "spec": "", "seed": 1,
                                  "scenario": "china"})
    post = read_posterior(write_posterior(ds, tmp_path / "p.nc"))
    china, county = load_scenario("china"), load_scenario("county")
    for s, d in zip(ensemble_scenarios(china, post, 6, 2), post.draws(6, 2)):
        assert s.get("enforcement.programme_intensity") == d["enforcement.programme_intensity"]
        assert s.get("behaviour.risk_weight") == d["behaviour.risk_weight"]
    for s, d in zip(ensemble_scenarios(county, post, 6, 2), post.draws(6, 2)):
        assert s.get("enforcement.programme_intensity") == 1.0
        assert s.get("behaviour.risk_weight") == d["behaviour.risk_weight"]


# ------------------------------------------------------------------------------------------------
# what an ensemble does to a projection

SMALL = {"run.households": 10000, "run.end_year": 2006, "run.burn_in_years": 15}


def _pooled_srb(ds) -> float:
    b = ds["births"].sum(("year", "parity"))
    return float(100.0 * b.sel(sex="male") / b.sel(sex="female"))


def test_an_ensemble_of_different_draws_spreads_the_projection_more_than_seeds():
    """Two equally likely abortion propensities (never vs readily) widen the replicates'
    spread of the pooled SRB beyond what the seeds alone give (same seeds in both arms)."""
    scenario = load_scenario("county", SMALL)
    post = Posterior(("behaviour.abort_intercept",), np.array([[-20.0], [2.0]]),
                     np.array([0.5, 0.5]))
    replicates = 10
    seeds = replicate_seeds(4, replicates)
    members = ensemble_scenarios(scenario, post, replicates, 4)
    drawn = [m.behaviour.abort_intercept for m in members]
    assert set(drawn) == {-20.0, 2.0}
    seed_only = np.array([_pooled_srb(popsim.run(scenario, s)) for s in seeds])
    ensemble = np.array([_pooled_srb(popsim.run(m, s)) for m, s in zip(members, seeds)])
    assert ensemble.std(ddof=1) > 1.5 * seed_only.std(ddof=1), (ensemble, seed_only)
    # and the spread comes from the draws: the runs of the readier draw have the higher SRB
    high = ensemble[np.array(drawn) == 2.0].mean()
    low = ensemble[np.array(drawn) == -20.0].mean()
    assert high - low > 5.0, (high, low)

"""The output dataset: units and long names, provenance, netCDF round trip, and the year-end
census (sibship table, living children, women by children and local rule) against a brute-force
recount."""

import json

import numpy as np
import xarray as xr

import popsim
from popsim.io import write_netcdf
from popsim.model.coords import CHILD_GROUP_YEARS, REGIMES
from popsim.model.households import INACTIVE
from popsim.model.model import PopSimModel
from popsim.model.recording import DERIVED, RECORDED
from popsim.scenario import load_scenario


def test_every_variable_has_units_and_long_name(county_small):
    for name in list(RECORDED) + list(DERIVED):
        v = county_small[name]
        assert v.attrs.get("units") and v.attrs.get("long_name"), name
    assert county_small.sizes["parity"] == 3 and county_small.sizes["sex"] == 2


def test_provenance_reloads_the_same_scenario(county_small):
    a = county_small.attrs
    assert a["popsim_version"] and a["scenario_name"] == "county"
    assert len(a["scenario_sha256"]) == 64
    import tomllib

    data = tomllib.loads(a["scenario_toml"])
    assert data["run"]["households"] == 5000
    for v in a.values():
        assert isinstance(v, (str, int, float)), v  # netCDF-safe


def test_netcdf_round_trip_is_identical(tmp_path, county_small):
    path = write_netcdf(county_small, tmp_path / "run.nc")
    with xr.open_dataset(path) as back:
        back = back.load()
    xr.testing.assert_identical(back, county_small)


def test_counts_are_pooled_ratios_derived(county_small):
    ds = county_small
    m = ds["births"].sel(sex="male").sum("parity")
    f = ds["births"].sel(sex="female").sum("parity")
    np.testing.assert_allclose(ds["srb"], 100 * m / f)
    np.testing.assert_allclose(ds["missing_female_births"], m * 100 / ds.attrs["natural_srb"] - f)
    tfr = ds["tfr"].values
    assert ((tfr > 0.8) & (tfr < 3.5)).all(), tfr


def test_scenario_in_attrs_reproduces_the_run(tmp_path, county_small):
    f = tmp_path / "again.toml"
    f.write_text(county_small.attrs["scenario_toml"])
    again = popsim.run(load_scenario(f), seed=county_small.attrs["seed"])
    xr.testing.assert_identical(again.drop_attrs(), county_small.drop_attrs())
    json.dumps(dict(county_small.attrs))


# ------------------------------------------------------------------------------------------------
# the year-end census, recounted by brute force

CENSUS_RUN = {"run.households": 500, "run.start_year": 2000, "run.end_year": 2004,
              "run.burn_in_years": 40, "behaviour.girl_neglect": 0.2,
              "policy.two_child_share": 0.2, "policy.three_child_share": 0.1,
              "policy.rural_one_child_share": 0.1, "population.cohort_size": 0.8,
              "behaviour.overquota_concealment": 0.9}
RANK = {name: i for i, name in enumerate(REGIMES)}


def local_rule(national: str, rural: bool, group: int) -> str:
    """The local rule of one woman, written out case by case."""
    if national == "none":
        return "none"
    urban = "one_child" if national == "one_and_half" else national
    if not rural or group == 1:
        return urban
    floor = {0: national, 2: "two_child", 3: "three_child"}[group]
    return max(national, floor, key=RANK.get)


def recount(hh, t_end: int, national: str) -> dict:
    """Every census cell, recounted woman by woman in plain Python."""
    out = {"sibship_women": np.zeros(6), "sibship_another": np.zeros(6),
           "sibship_next_male": np.zeros(6), "living_children": np.zeros((8, 2)),
           "women_by_children": np.zeros(4), "women_by_regime": np.zeros(len(REGIMES))}
    rows = {("b",): 0, ("g",): 1, ("b", "b"): 2, ("b", "g"): 3, ("g", "b"): 3, ("g", "g"): 4,
            ("g", "g", "g"): 5}
    for i in range(hh.n):
        if hh.status[i] == INACTIVE:
            continue
        parity = int(hh.parity[i])
        kids = ["b" if (int(hh.child_male[i]) >> k) & 1 else "g" for k in range(min(parity, 8))]
        # the sibship table counts the children at home: a daughter living away is not there
        away = [(int(hh.child_away[i]) >> k) & 1 for k in range(len(kids))]
        home = [kid for kid, gone in zip(kids, away) if not gone]
        on_roster = parity - sum(away)
        age = t_end - int(hh.birth_month[i])
        if 21 * 12 <= age < 41 * 12:
            for k in (1, 2, 3):
                row = rows.get(tuple(home[:k])) if on_roster >= k else None
                if row is None:
                    continue
                out["sibship_women"][row] += 1
                if on_roster > k:
                    out["sibship_another"][row] += 1
                    out["sibship_next_male"][row] += home[k] == "b"
        for k, sex in enumerate(kids):
            if (int(hh.child_dead[i]) >> k) & 1:
                continue
            child_age = t_end - int(hh.child_born[i, k])
            for g, (lo, hi) in enumerate(CHILD_GROUP_YEARS.values()):
                if lo * 12 <= child_age < hi * 12:
                    out["living_children"][g, 0 if sex == "b" else 1] += 1
        out["women_by_children"][min(parity, 3)] += 1
        rule = local_rule(national, bool(hh.rural[i]), int(hh.rule[i]))
        out["women_by_regime"][REGIMES.index(rule)] += 1
    return out


def test_year_end_census_matches_a_brute_force_recount():
    model = PopSimModel("county", seed=5, overrides=CENSUS_RUN)
    model.run_to_end()
    ds = model.dataset()
    expected = recount(model.households, model.t, model.regime)
    last = ds.sel(year=2004)
    for name, value in expected.items():
        np.testing.assert_array_equal(last[name].values, value, err_msg=name)
    assert expected["sibship_women"].sum() > 100 and expected["living_children"].sum() > 300
    # daughters living away (hidden over-quota girls of sonless families) are in the run,
    # counted among the living children and left off the sibship table's rosters
    hh = model.households
    away = (hh.status != INACTIVE) & (hh.child_away > 0)
    assert away.sum() >= 3
    assert not (hh.child_away & hh.child_male).any()
    assert (last["women_by_regime"] > 0).sum() >= 3  # the exemptions show as local rules
    # the child sex ratios are the ratios of those counts
    lc = expected["living_children"]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(last["child_sex_ratio"].values, 100 * lc[:, 0] / lc[:, 1])
    assert list(ds["child_group"].values) == list(CHILD_GROUP_YEARS)


def test_births_by_residence_and_regime_add_up_to_births(county_small):
    ds = county_small
    np.testing.assert_allclose(ds["births_by_residence"].sum("residence"), ds["births"])
    np.testing.assert_allclose(ds["births_by_regime"].sum("regime"), ds["births"].sum("parity"))
    assert (ds["overquota_births"] <= ds["births"].sum("parity")).all()
    assert (ds["hidden_overquota_births"] <= ds["overquota_births"]).all()
    # every girl's birth is counted once: reported, concealed by her family, or hidden over quota
    girls = ds["births"].sel(sex="female")
    np.testing.assert_allclose(ds["reported_births"].sel(sex="female").sum("parity")
                               + ds["concealed_births"].sum("parity")
                               + ds["hidden_overquota_births"].sel(sex="female"),
                               girls.sum("parity"))
    share = float(ds["concealed_births"].sum() / girls.sum())
    assert 0.005 < share < 0.04, share     # behaviour.concealment 0.02 of the registered girls
    assert float(ds["maintenance_fees"].sum()) > 0 and float(ds["overquota_births"].sum()) > 0
    women = ds["women_by_children"].sum("children")
    np.testing.assert_allclose(women, ds["women_by_regime"].sum("regime"))
    assert (ds["child_deaths"].sum("child_age") >= 0).all()

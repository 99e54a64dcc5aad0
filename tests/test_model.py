"""The model as a whole: invariants, reproducibility, limits, the calibration targets, the step
order, and the Mesa conventions (``running``, keyword levers, ``batch_run``)."""

import ast
import inspect
import re
import textwrap

import mesa
import numpy as np
import pytest
import xarray as xr

import popsim

MESA_3_3 = tuple(int(x) for x in mesa.__version__.split(".")[:2]) < (3, 5)
from popsim.errors import ScenarioError
from popsim.model.clinics import Clinic
from popsim.model.enforcement import EnforcementOffice
from popsim.model.children import MAX_CHILDREN
from popsim.model.households import DONE, HELD, INACTIVE, PREGNANT, TRYING, WAITING
from popsim.model.model import REPORTERS, PopSimModel

from conftest import run_cached, srb_of

SMALL = {"run.households": 4000, "run.end_year": 2006, "run.burn_in_years": 20}


def test_invariants_during_a_run():
    scenario = popsim.load_scenario("county", {**SMALL, "population.cohort_size": 0.9,
                                               "behaviour.girl_neglect": 0.1})
    model = PopSimModel(scenario, seed=3)
    hh = model.households
    while not model.finished:
        model.step()
        if model.t % 37 == 0:
            # parity counts children ever born; sons and daughters the living ones
            stored = (1 << np.minimum(hh.parity, MAX_CHILDREN).astype(np.int64)) - 1
            dead = np.array([bin(x).count("1") for x in hh.child_dead])
            assert np.array_equal(hh.sons.astype(int) + hh.daughters + dead, hh.parity)
            assert not (hh.child_dead & ~stored).any() and not (hh.child_male & ~stored).any()
            assert set(np.unique(hh.status)) <= {WAITING, TRYING, PREGNANT, DONE, HELD, INACTIVE}
            on = hh.status != INACTIVE
            age = (model.t - 1 - hh.birth_month[on]) / 12  # at the month just simulated
            assert age.min() >= 15 and age.max() < 50
            assert (hh.son_pref >= 0).all() and (hh.son_pref <= 1).all()
    assert hh.parity.max() > 0 and hh.child_dead.any()


def test_dataset_invariants(county_small):
    ds = county_small
    b = ds["births"]
    assert (b >= 0).all()
    np.testing.assert_allclose(b.sum(["parity", "sex"]), ds["total_births"])
    np.testing.assert_allclose(b.sum("parity").sum("sex"),
                               b.sel(sex="male").sum("parity") + b.sel(sex="female").sum("parity"))
    np.testing.assert_allclose(ds["births_by_township"].sum(["township", "sex"]),
                               ds["total_births"])
    np.testing.assert_allclose(ds["births_by_age"].sum("age_group"), ds["total_births"])
    assert (ds["reported_births"] <= b).all()
    assert (ds["misclassified_male_abortions"]
            <= ds["sex_selective_abortions"].sum("route")).all()
    assert (ds["cases"].sum("source") <= ds["investigations"] + ds["inspections"]).all()


def test_same_seed_identical_other_seed_different():
    a = popsim.run("county", seed=11, overrides=SMALL)
    b = popsim.run("county", seed=11, overrides=SMALL)
    xr.testing.assert_identical(a, b)
    c = popsim.run("county", seed=12, overrides=SMALL)
    assert not a["births"].equals(c["births"])


def test_clinics_and_office_are_mesa_agents():
    model = PopSimModel(popsim.load_scenario("county", SMALL), seed=1)
    assert isinstance(model, mesa.Model)
    clinics = model.clinics
    # an AgentSet (Mesa 3.3) or Mesa 3.5's _HardKeyAgentSet: the same interface
    assert all(hasattr(clinics, m) for m in ("select", "do", "shuffle", "agg"))
    s = model.config.market
    n_fixed = (s.county_hospitals + s.township_centres_per_township * 16 + s.private_clinics
               + s.pharmacies + s.out_of_county)
    assert len(clinics) == n_fixed
    kinds = {c.kind for c in clinics}
    assert kinds == {"county_hospital", "township_centre", "private_clinic", "pharmacy",
                     "out_of_county"}
    assert len(model.agents_by_type[EnforcementOffice]) == 1
    for _ in range(24):
        model.step()
    offering = clinics.select(lambda c: c.offering)
    assert all(c.has_ultrasound and c.status == "open" for c in offering)
    assert all(isinstance(c, Clinic) for c in offering)


def _pooled_srb_interval(datasets, parity=None, z=2.58):
    b = sum(d["births"].sum("year") for d in datasets)
    b = b.sum("parity") if parity is None else b.sel(parity=parity)
    m, f = float(b.sel(sex="male")), float(b.sel(sex="female"))
    p = m / (m + f)
    se = np.sqrt(p * (1 - p) / (m + f))
    lo, hi = p - z * se, p + z * se
    return 100 * lo / (1 - lo), 100 * hi / (1 - hi), m + f


@pytest.mark.slow
def test_no_son_preference_gives_the_natural_srb_at_every_parity():
    # no sex preference at all: no son preference and no wish for a daughter
    runs = [run_cached("no_son_preference", s, son_preference__daughter_preference=0.0)
            for s in (1, 2, 3)]
    natural = runs[0].attrs["natural_srb"]
    assert float(sum(r["sex_selective_abortions"].sum() for r in runs)) == 0
    for parity in (None, "1", "2", "3+"):
        lo, hi, n = _pooled_srb_interval(runs, parity)
        assert lo <= natural <= hi, f"parity {parity}: 99% interval [{lo:.1f}, {hi:.1f}] " \
                                    f"from {n:.0f} births excludes {natural}"


@pytest.mark.slow
def test_baseline_srb_is_high_and_rises_with_birth_order():
    runs = [run_cached("baseline", s, run__end_year=2004) for s in (1, 2)]
    years = slice(2000, 2004)
    b = sum(r["births"].sel(year=years).sum("year") for r in runs)
    srb = 100 * b.sel(sex="male") / b.sel(sex="female")
    total = float(100 * b.sel(sex="male").sum() / b.sel(sex="female").sum())
    assert total >= 110, f"baseline SRB {total:.1f} around 2000"
    lo2, _, _ = _pooled_srb_interval([r.sel(year=years) for r in runs], "2")
    _, hi1, _ = _pooled_srb_interval([r.sel(year=years) for r in runs], "1")
    assert lo2 > hi1 + 10, f"parity 2 ({float(srb.sel(parity='2')):.1f}) should be clearly " \
                           f"above parity 1 ({float(srb.sel(parity='1')):.1f})"


@pytest.mark.slow
def test_county_reported_srb_in_the_reports_band_while_baseline_stays_high():
    county = [run_cached("county", s) for s in (1, 2)]
    base = [run_cached("baseline", s) for s in (1, 2)]
    around = slice(2009, 2013)  # the work report's year, 2011: reported SRB 108.26 (+-4)

    def reported(runs):
        b = sum(r["reported_births"].sel(year=around).sum(["year", "parity"]) for r in runs)
        return float(100 * b.sel(sex="male") / b.sel(sex="female"))

    assert 104.26 <= reported(county) <= 112.26
    assert reported(base) >= 113
    assert srb_of(base[0]) > srb_of(county[0]) + 5


def test_scale_multiplies_counts_not_ratios():
    # a run with run.scale = 4 simulates a quarter of the county (4 of 16 townships, a quarter of
    # its providers and effort); the dataset's counts are 4x the simulated ones, ratios are not
    scenario = popsim.load_scenario("county", {**SMALL, "run.scale": 4.0})
    model = PopSimModel(scenario, seed=5)
    model.run_to_end()
    ds = model.dataset()
    assert ds.sizes["township"] == 4
    np.testing.assert_allclose(ds["births"], 4 * model.recorder.buf["births"])
    np.testing.assert_allclose(ds["inspections"], 4 * model.recorder.buf["inspections"])
    np.testing.assert_allclose(ds["mean_son_preference"], model.recorder.buf["mean_son_preference"])
    b = ds["births"].sum(["year", "parity"])
    assert float(ds["srb"].sel(year=ds.year[-1])) == pytest.approx(float(
        100 * ds["births"].isel(year=-1).sum("parity").sel(sex="male")
        / ds["births"].isel(year=-1).sum("parity").sel(sex="female")))
    assert float(b.sel(sex="male")) > 0


def test_burn_in_gives_realistic_parity_at_start():
    model = PopSimModel(popsim.load_scenario("baseline", {"run.households": 6000}), seed=2)
    while model.year < model.config.run.start_year:
        model.step()
    hh = model.households
    age = (model.t - hh.birth_month) / 12
    older = age >= 40
    assert 1.0 < hh.parity[older].mean() < 3.0
    assert (hh.parity[age < 18] == 0).mean() > 0.9


def test_case_ledger_records_the_source_of_every_case():
    scenario = popsim.load_scenario("county", {**SMALL, "enforcement.inspections_per_month": 40.0})
    model = PopSimModel(scenario, seed=4)
    model.run_to_end()
    ledger = model.office.case_ledger
    ds = model.dataset()
    recorded = ledger["month"] >= model.config.run.start_year * 12
    for source in ds["source"].values:
        pursued = recorded & ledger["pursued"] & (ledger["source"] == source)
        assert pursued.sum() == float(ds["cases"].sel(source=source).sum()), source
    assert recorded.sum() > 0
    caught = {int(r) for r in ledger["provider"][ledger["pursued"]]}
    for clinic in model.clinics:
        if clinic.row in caught:
            assert clinic.cases > 0 and clinic.fines_paid > 0
        assert 0.0 <= clinic.risk_belief <= 1.0


# ------------------------------------------------------------------------------------------------
# the step: one list of phases, written once


def _docstring_phases() -> list[str]:
    """The phase names of the step docstring (``N. **Name**``), as method names."""
    names = re.findall(r"^\s*\d+\. \*\*([^*]+)\*\*", inspect.getdoc(PopSimModel.step), flags=re.M)
    return ["_" + re.sub(r"[^a-z]+", "_", n.lower()).strip("_") for n in names]


def _called_phases() -> list[str]:
    """The ``self._phase()`` calls in the body of ``PopSimModel.step``, in order."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(PopSimModel.step)))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
             and n.func.value.id == "self" and n.func.attr.startswith("_")]
    return [c.func.attr for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]


def test_step_calls_the_phases_of_its_docstring_in_order():
    phases = _docstring_phases()
    assert len(phases) == 16  # 7 yearly, 9 monthly
    assert _called_phases() == phases
    doc = inspect.getdoc(PopSimModel.step)
    assert doc.index("In January") < doc.index("**Year values**") < doc.index("Then every month")
    assert doc.index("Then every month") < doc.index("**Policy schedule**")


def test_running_turns_false_at_the_end_and_stops_a_mesa_loop():
    model = PopSimModel("county", seed=2, overrides=SMALL)
    assert model.running
    while model.running:
        model.step()
    assert model.finished and model.t == model.t_end
    months = (model.config.run.end_year - model.first_year + 1) * 12
    assert model.steps == months
    assert len(model.datacollector.model_vars["births"]) == months
    ds = model.dataset()
    assert model.datacollector.model_vars["births"][-1] == float(ds["births"].sum())
    assert model.datacollector.model_vars["year"][-1] == model.config.run.end_year
    assert set(model.datacollector.model_vars) == set(REPORTERS)


def test_levers_as_keyword_arguments_dotted_or_double_underscore():
    dotted = PopSimModel(scenario="county", seed=1, **{"enforcement.inspections_per_month": 20})
    assert dotted.config.enforcement.inspections_per_month == 20
    under = PopSimModel("county", 1, enforcement__inspections_per_month=20)
    assert under.config == dotted.config
    flat = PopSimModel("county", 1, overrides={"enforcement.inspections_per_month": 20})
    assert flat.config == dotted.config
    # keyword levers win over the overrides mapping; a Scenario object is taken as it is
    both = PopSimModel(popsim.load_scenario("county"), 1, overrides={"enforcement.fine": 1.0},
                       enforcement__fine=2.0)
    assert both.config.enforcement.fine == 2.0
    assert PopSimModel(dotted.config).config is dotted.config
    with pytest.raises(ScenarioError, match="did you mean 'enforcement.inspections_per_month'"):
        PopSimModel("county", 1, enforcement__inspection_per_month=20)


def test_model_with_keyword_levers_gives_the_run_of_the_same_overrides(tmp_path):
    model = PopSimModel("county", 5, **{k.replace(".", "__"): v for k, v in SMALL.items()})
    model.run_to_end()
    xr.testing.assert_identical(model.dataset(), popsim.run("county", seed=5, overrides=SMALL))
    path = tmp_path / "mine.toml"
    path.write_text('extends = "county"\n[run]\nhouseholds = 4000\nend_year = 2006\n'
                    'burn_in_years = 20\n')
    assert PopSimModel(path, 5).config.run == model.config.run


def test_mesa_batch_run_with_dotted_lever_names():
    tiny = {"scenario": "county", "seed": 1, "run.households": 600, "run.start_year": 2000,
            "run.end_year": 2001, "run.burn_in_years": 2}
    rows = mesa.batch_run(PopSimModel, parameters={**tiny, "enforcement.inspections_per_month":
                                                   [0.0, 40.0]},
                          iterations=1, max_steps=10_000, number_processes=1,
                          display_progress=False)
    assert len(rows) == 2
    for row in rows:
        lever = row["enforcement.inspections_per_month"]
        ds = popsim.run("county", seed=1, overrides={
            **{k: v for k, v in tiny.items() if k not in ("scenario", "seed")},
            "enforcement.inspections_per_month": lever})
        if MESA_3_3:
            # every month was run and the row is the last month's: identical to popsim.run
            assert row["Step"] == 4 * 12 - 1
            assert row["births"] == float(ds["births"].sum())
            assert row["cases"] == float(ds["cases"].sum())
        else:
            # Mesa 3.5's batch_run reports the step count and reads the collector's row one
            # month before the end (its convention expects a row at step 0): the run is whole
            assert row["Step"] == 4 * 12
            assert 0 < row["births"] <= float(ds["births"].sum())
        assert row["year"] == 2001
    no, yes = sorted(rows, key=lambda r: r["enforcement.inspections_per_month"])
    assert no["cases"] == 0 < yes["cases"]

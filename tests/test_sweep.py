"""Sweep specs, the store layout, resume refusal, export and bad input (serial runs, real zarr)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

import popsim
from popsim import cli
from popsim.experiments import sweep, sweep_spec, sweep_store
from popsim.experiments.sweep_design import apply_point
from popsim.model.streams import replicate_seeds

TINY = """
"run.households" = 2000
"run.start_year" = 2000
"run.end_year" = 2002
"run.burn_in_years" = 10
"""

GRID = f"""
name = "tiny_grid"
description = "two levers, two values each"
scenario = "county"
seed = 11
replicates = 2

[overrides]
{TINY}

[parameters]
"enforcement.inspections_per_month" = [0, 40]
incentives.benefit_per_year = {{ min = 0, max = 6000, num = 2 }}

[outputs]
variables = ["srb", "srb_by_parity", "births", "enforcement_cost"]
"""


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A finished 2 x 2 grid with 2 replicates, run in this process: (spec path, store path)."""
    folder = tmp_path_factory.mktemp("grid")
    spec_path = write(folder / "grid.toml", GRID)
    store = folder / "grid.zarr"
    result = sweep.run_sweep(sweep_spec.load_spec(spec_path), store, workers=1, progress=False)
    assert (result.total, result.skipped, result.ran) == (8, 0, 8)
    return spec_path, store


def test_grid_layout_and_provenance(grid):
    spec_path, store = grid
    ds = sweep.open_sweep(store)
    assert dict(ds["srb"].sizes) == {"enforcement.inspections_per_month": 2,
                                     "incentives.benefit_per_year": 2, "replicate": 2, "year": 3}
    assert ds["srb_by_parity"].dims[-2:] == ("year", "parity")
    assert list(ds.data_vars) == ["srb", "srb_by_parity", "births", "enforcement_cost",
                                  "run_complete", "run_digest"]
    assert ds["run_digest"].dtype == np.uint64 and bool((ds["run_digest"] != 0).all())
    assert ds["incentives.benefit_per_year"].values.tolist() == [0.0, 6000.0]
    assert ds["incentives.benefit_per_year"].attrs["units"] == "yuan/year"
    assert ds["seed"].values.tolist() == replicate_seeds(11, 2)
    assert bool(ds["run_complete"].all())
    assert ds.attrs["spec_toml"] == spec_path.read_text()
    assert ds.attrs["spec_sha256"] == sweep_spec.load_spec(spec_path).sha256()
    assert ds.attrs["popsim_version"] == popsim.__version__
    assert ds.attrs["design"] == "grid"
    # one chunk per run: no two runs ever share a chunk (single writer, region per run)
    assert zarr.open_array(str(store / "births"), mode="r").chunks == (1, 1, 1, 3, 3, 2)


def test_each_run_lands_in_its_own_region(grid):
    """The stored run at (40 inspections, 6000 yuan, replicate 1) is that run, computed directly."""
    spec_path, store = grid
    spec = sweep_spec.load_spec(spec_path)
    point = {"enforcement.inspections_per_month": 40.0, "incentives.benefit_per_year": 6000.0}
    # the swept levers act from run.start_year, the base's history before (apply_point)
    direct = popsim.run(apply_point(spec.base, point), seed=replicate_seeds(11, 2)[1])
    stored = sweep.open_sweep(store).sel(point).isel(replicate=1).load()
    for name in spec.variables:
        np.testing.assert_array_equal(stored[name].values, direct[name].values)
    # and the replicate seeds are shared across design points (common random numbers)
    other = sweep.open_sweep(store).sel({"enforcement.inspections_per_month": 0.0})
    assert not np.array_equal(other["births"].isel(replicate=1).values,
                              other["births"].isel(replicate=0).values)


def test_equivalent_specs_have_one_meaning(tmp_path):
    a = sweep_spec.load_spec(write(tmp_path / "a.toml", GRID))
    rewritten = GRID.replace('incentives.benefit_per_year = { min = 0, max = 6000, num = 2 }',
                             '"incentives.benefit_per_year" = [0.0, 6000]  # same values')
    rewritten = rewritten.replace('name = "tiny_grid"', 'name = "renamed"')
    b = sweep_spec.load_spec(write(tmp_path / "b.toml", rewritten))
    assert a.sha256() == b.sha256()
    c = sweep_spec.load_spec(write(tmp_path / "c.toml", GRID.replace("seed = 11", "seed = 12")))
    assert c.sha256() != a.sha256()


def test_lhs_end_year_summaries(tmp_path):
    text = f"""
scenario = "county"
seed = 5
[overrides]
{TINY}
[parameters]
"propaganda.reach" = {{ min = 0.0, max = 0.2 }}
"market.private_clinics" = {{ min = 50, max = 150 }}
[design]
kind = "lhs"
n = 3
[outputs]
resolution = "end_year"
summary_years = 2
variables = ["total_births", "srb"]
"""
    spec = sweep_spec.load_spec(write(tmp_path / "lhs.toml", text))
    store = tmp_path / "lhs.zarr"
    sweep.run_sweep(spec, store, workers=1, progress=False)
    ds = sweep.open_sweep(store).load()
    assert dict(ds["srb"].sizes) == {"run": 3, "replicate": 1}
    reach = ds["propaganda.reach"].values
    clinics = ds["market.private_clinics"].values
    assert ds["propaganda.reach"].dims == ("run",)
    assert np.all((reach >= 0) & (reach <= 0.2))
    # Latin hypercube: one point in each third of every range; whole numbers for int parameters
    assert sorted(np.floor(reach / 0.2 * 3).astype(int).tolist()) == [0, 1, 2]
    assert clinics.dtype.kind == "i" and np.all((clinics >= 50) & (clinics <= 150))
    point = {"propaganda.reach": float(reach[1]), "market.private_clinics": int(clinics[1])}
    direct = popsim.run(apply_point(spec.base, point), seed=replicate_seeds(5, 1)[0])
    expected = direct["total_births"].sel(year=[2001, 2002]).mean("year")
    assert float(ds["total_births"].isel(run=1, replicate=0)) == pytest.approx(float(expected))
    assert ds.attrs["resolution"] == "end_year"


def test_spec_change_refused_naming_the_difference(grid, tmp_path, capsys):
    _, store = grid
    changed = GRID.replace("replicates = 2", "replicates = 3").replace("[0, 40]", "[0, 20]")
    spec_path = write(tmp_path / "changed.toml", changed)
    before = (store / "zarr.json").read_bytes()
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "refusing to resume" in err and "replicates: 2 -> 3" in err
    assert "enforcement.inspections_per_month" in err and "[0.0, 20.0]" in err
    assert "Traceback" not in err
    base_changed = write(tmp_path / "base.toml", GRID.replace('"run.households" = 2000',
                                                              '"run.households" = 2500'))
    assert cli.main(["sweep", str(base_changed), "--out", str(store), "--resume"]) == 2
    assert "run.households 2000 -> 2500" in capsys.readouterr().err
    # an existing store is never silently reused or replaced
    assert cli.main(["sweep", str(grid[0]), "--out", str(store)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (store / "zarr.json").read_bytes() == before


def test_resume_of_a_finished_sweep_runs_nothing(grid):
    spec_path, store = grid
    result = sweep.run_sweep(sweep_spec.load_spec(spec_path), store, workers=1, resume=True,
                             progress=False)
    assert (result.skipped, result.ran) == (8, 0)


def test_a_second_writer_is_refused(grid, capsys):
    spec_path, store = grid
    with sweep_store.writer_lock(store):  # as a running `popsim sweep` holds it
        assert cli.main(["sweep", str(spec_path), "--out", str(store), "--resume"]) == 2
    assert f"is writing {store}" in capsys.readouterr().err


def test_export_netcdf_round_trip(grid, tmp_path, capsys):
    _, store = grid
    nc = tmp_path / "out" / "grid.nc"
    assert cli.main(["export", str(store), str(nc)]) == 0
    exported = xr.open_dataset(nc).load()
    stored = sweep.open_sweep(store).load()
    # the same dataset, its CF history one line longer (deterministic: no time stamp)
    assert exported.attrs["history"] == stored.attrs["history"] + \
        f"\npopsim {popsim.__version__} export: netCDF copy of grid.zarr"
    exported.attrs["history"] = stored.attrs["history"]
    xr.testing.assert_identical(exported, stored)
    assert json.loads(exported.attrs["parameters"])[0] == "enforcement.inspections_per_month"
    assert not list(nc.parent.glob(".*.tmp"))  # written atomically


def test_heatmap_shows_replicate_spread_and_marks_cells_within_noise(grid):
    from matplotlib.patches import Rectangle

    from popsim.reports import sweep_plot

    _, store = grid
    ds = sweep.open_sweep(store)
    fig = sweep_plot.sweep_figure(ds, "enforcement_cost")  # two grid parameters: a heatmap
    ax = fig.axes[0]
    cost = ds["enforcement_cost"].isel(year=-1).load()
    texts = [t.get_text() for t in ax.texts]
    sd = float(cost.isel({"enforcement.inspections_per_month": 1,
                          "incentives.benefit_per_year": 0}).std("replicate", ddof=1))
    assert f"+-{sd:.2g}" in texts[1] and texts[0].endswith("ref")  # mean +- sd in every cell
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    # 40 inspections a month cost more than none, far beyond noise: those cells are not
    # hatched; the benefit changes no inspection, so (0 inspections, 6000 yuan) is within noise
    assert [(round(p.get_x() + 0.5), round(p.get_y() + 0.5)) for p in hatched] == [(0, 1)]
    assert "hatched: difference from the red reference cell within noise" in ax.get_title()
    # with synthetic cells: a difference smaller than the paired noise is marked, a larger not
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, (1, 1, 5))
    cells = np.concatenate([noise, noise + 0.01 + rng.normal(0, 1, (1, 1, 5)), noise + 50],
                           axis=1)
    _, _, within = sweep_plot._cell_noise(cells)
    assert within.tolist() == [[False, True, False]]


def test_plot_line_and_heatmap_png(grid, tmp_path, capsys):
    _, store = grid
    line, heat = tmp_path / "line.png", tmp_path / "heat.png"
    assert cli.main(["plot", str(store), "--outcome", "srb_by_parity", "--select", "parity=2",
                     "--x", "enforcement.inspections_per_month", "--out", str(line)]) == 0
    assert cli.main(["plot", str(store), "--year", "2001", "--out", str(heat)]) == 0
    for png in (line, heat):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert cli.main(["plot", str(store), "--outcome", "births"]) == 2
    assert "--select parity=VALUE" in capsys.readouterr().err


BAD = [
    (GRID.replace('"enforcement.inspections_per_month"', '"enforcement.inspection_per_month"'),
     "did you mean 'enforcement.inspections_per_month'?"),
    (GRID.replace("[0, 40]", "[0, 1e12]"), "1000000000000 is above the upper bound"),
    (GRID.replace("max = 6000", "max = -5"), "below the lower bound 0"),
    (GRID.replace("[outputs]", '[design]\nkind = "sobol"\nn = 12\n[outputs]')
         .replace("[0, 40]", "{ min = 0, max = 40 }").replace(", num = 2", ""),
     "n = 12 is not: use 8 or 16"),
    (GRID.replace('variables = ["srb"', 'variables = ["srbb"'), "did you mean 'srb'?"),
    (GRID.replace("[0, 40]", '{ min = 0, max = 40 }'), "a grid range needs num"),
    (GRID.replace("[0, 40]", "[0, 40]\n\"run.end_year\" = [2001, 2002]"),
     "changes the 'year' dimension"),
    (GRID.replace("replicates = 2", "replicate = 2"), "did you mean 'replicates'?"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_spec_exit_2_before_any_run(tmp_path, capsys, text, message):
    spec_path = write(tmp_path / "bad.toml", text)
    store = tmp_path / "bad.zarr"
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith(f"popsim: error: {spec_path}") and \
        "Traceback" not in err
    assert not store.exists()


def test_bad_command_options_exit_2(grid, tmp_path, capsys):
    spec_path, _ = grid
    out = str(tmp_path / "x.zarr")
    for argv, message in [(["--workers", "0"], "--workers must be at least 1"),
                          (["--scheduler", "nowhere"], "'local' or a dask address"),
                          (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the dask"),
                          (["--resume", "--overwrite"], "exclude each other")]:
        assert cli.main(["sweep", str(spec_path), "--out", out, *argv]) == 2
        assert message in capsys.readouterr().err
    assert cli.main(["sweep", "no_such_sweep"]) == 2
    assert "embedded examples: enforcement_incentive_grid" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "missing.zarr"), str(tmp_path / "x.nc")]) == 2
    assert "no sweep store" in capsys.readouterr().err


def test_example_specs_are_valid():
    shapes = {name: sweep_spec.load_spec(name).shape for name in sweep_spec.available_sweeps()}
    assert shapes["enforcement_incentive_grid"] == (4, 4, 3)
    assert shapes["sobol_levers"] == (64 * (7 + 2), 1)
    assert shapes["morris_screening"] == (10 * (12 + 1), 1)
    assert shapes["lever_packages"] == (4, 8, 2)
    for name in shapes:  # every example states its measured run time
        words = " ".join(sweep_spec.load_spec(name).description.split())
        assert "measured with `--workers 2`" in words, name


def test_bad_input_from_a_real_command(tmp_path):
    bad = write(tmp_path / "bad.toml", BAD[0][0])
    popsim_command = str(Path(sys.executable).with_name("popsim"))
    proc = subprocess.run([popsim_command, "sweep", str(bad), "--out", str(tmp_path / "x.zarr")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "did you mean 'enforcement.inspections_per_month'?" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------------
# an ensemble sweep (issue 15): replicate r at every point uses posterior draw r and seed r

ENSEMBLE_SPEC = f"""
name = "tiny_ensemble"
scenario = "county"
seed = 11
ensemble = "post.nc"
draws = 3

[overrides]
{TINY}

[parameters]
"enforcement.inspections_per_month" = [0, 40]

[outputs]
variables = ["srb", "births"]
"""


def _posterior(folder, values):
    from popsim.experiments.ensemble import posterior_dataset, write_posterior

    ds = posterior_dataset(["behaviour.abort_intercept", "behaviour.seek_motivation"], values,
                           [0.3, 0.3, 0.4], attrs={"method": "test fixture"})
    return write_posterior(ds, folder / "post.nc")


def test_a_historys_calibrated_lever_holds_for_the_run_and_only_in_its_history(tmp_path):
    """A posterior calibrated on `china` draws its programme intensity (a lever without a
    schedule): a sweep on `china` takes each draw for the whole run, a sweep on `county` leaves
    it out; the swept lever still acts from run.start_year."""
    from popsim.experiments.ensemble import posterior_dataset, write_posterior
    from popsim.experiments.sweep_design import build_tasks, check_points
    from popsim.experiments.sweep_spec import parse_spec

    ds = posterior_dataset(["behaviour.risk_weight", "enforcement.programme_intensity"],
                           [[4.0, 0.2], [6.0, 0.4], [5.0, 0.6]], [0.3, 0.3, 0.4],
                           attrs={"method": "test fixture", "scenario": "china"})
    write_posterior(ds, tmp_path / "post.nc")
    for scenario, want in (("china", {0.2, 0.4, 0.6}), ("county", {1.0})):
        spec = parse_spec(ENSEMBLE_SPEC.replace('scenario = "county"',
                                                f'scenario = "{scenario}"'),
                          folder=tmp_path)
        check_points(spec)
        tasks = build_tasks(spec)
        got = {s.get("enforcement.programme_intensity") for s, _, _ in tasks}
        assert got <= want and (len(got) > 1 or want == {1.0}), (scenario, got)
        swept = {str(s.get("enforcement.inspections_per_month")) for s, _, _ in tasks}
        assert len(swept) == 2  # the design's two values, each a schedule switching in 2000


def test_an_ensemble_sweep_records_and_uses_each_replicates_draw(tmp_path, capsys):
    from popsim.experiments.ensemble import read_posterior
    from popsim.experiments.sweep_design import select_outputs

    _posterior(tmp_path, [[-20.0, 8.0], [2.0, 8.0], [-4.0, 6.0]])
    spec_path = write(tmp_path / "ens.toml", ENSEMBLE_SPEC)
    store = tmp_path / "ens.zarr"
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1",
                     "--no-progress"]) == 0
    assert "replicate r uses draw r and seed r" in capsys.readouterr().out
    post = read_posterior(tmp_path / "post.nc")
    draws = post.draws(3, 11)
    ds = sweep.open_sweep(store).load()
    assert ds.sizes["replicate"] == 3 and ds["seed"].values.tolist() == replicate_seeds(11, 3)
    assert ds["draw"].values.tolist() == post.draw_indices(3, 11).tolist()
    assert ds["draw_value"].dims == ("replicate", "ensemble_parameter")
    np.testing.assert_array_equal(ds["draw_value"].values,
                                  [[d[p] for p in post.parameters] for d in draws])
    assert ds.attrs["ensemble_sha256"] == post.digest
    assert ds.attrs["ensemble"] == str(tmp_path / "post.nc")
    # the stored run at (40 inspections, replicate 2) is that point with draw 2 and seed 2
    spec = sweep_spec.load_spec(spec_path)
    point = {"enforcement.inspections_per_month": 40.0}
    direct = popsim.run(apply_point(spec.base, {**point, **draws[2]}),
                        seed=replicate_seeds(11, 3)[2])
    stored = ds.sel(point).isel(replicate=2)
    for name in spec.variables:
        np.testing.assert_array_equal(stored[name].values,
                                      select_outputs(direct, [name], "yearly", 1)[name].values)
    # a netCDF export keeps the draws
    out = tmp_path / "ens.nc"
    assert cli.main(["export", str(store), str(out)]) == 0
    with xr.open_dataset(out) as exported:
        np.testing.assert_array_equal(exported["draw_value"].values, ds["draw_value"].values)
    # resuming with another posterior (same file name, other content) is refused
    _posterior(tmp_path, [[-20.0, 9.0], [2.0, 8.0], [-4.0, 6.0]])
    capsys.readouterr()
    assert cli.main(["sweep", str(spec_path), "--out", str(store), "--workers", "1",
                     "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "refusing to resume" in err and "ensemble_sha256" in err, err


def test_swept_levers_act_from_the_start_year_and_share_the_burn_in():
    """A lever's swept value holds from 1 January of run.start_year (the base's history before
    it), a context parameter's for the whole run; lever points therefore share one burn-in."""
    from popsim.experiments import burnin
    from popsim.model.snapshot import burn_in_key
    from popsim.scenario.schema import value_at

    base = popsim.load_scenario("county", {"run.households": 3000, "run.end_year": 2003,
                                           "run.burn_in_years": 12})
    lever = apply_point(base, {"enforcement.inspections_per_month": 40.0})
    inspections = lever.get("enforcement.inspections_per_month")
    history = base.get("enforcement.inspections_per_month")
    for year in (1988, 1995, 1999):
        assert value_at(inspections, year) == value_at(history, year)
    assert value_at(inspections, 2000) == value_at(inspections, 2003) == 40.0
    assert burn_in_key(lever, 7) == burn_in_key(base, 7)
    context = apply_point(base, {"behaviour.natural_srb": 105.0})
    assert context.behaviour.natural_srb == 105.0
    assert burn_in_key(context, 7) != burn_in_key(base, 7)
    # the shared burn-in gives exactly the run from the start
    burnin.clear_cache()
    first = burnin.run_shared(base, 7)
    shared = burnin.run_shared(lever, 7)
    assert burnin.cache_info()["hits"] >= 1
    xr.testing.assert_identical(shared, popsim.run(lever, 7))
    assert not first["births"].equals(shared["births"])

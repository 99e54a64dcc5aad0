"""Lever packages x context samples (policies x scenarios): common random numbers, regret and the
share of contexts in which each package is best, on a real (tiny) sweep."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import popsim
from popsim import cli
from popsim.experiments import robustness, sweep, sweep_spec
from popsim.model.streams import replicate_seeds

SPEC = """
name = "packages"
scenario = "county"
seed = 21
replicates = 2

[overrides]
"run.households" = 1000
"run.start_year" = 2000
"run.end_year" = 2001
"run.burn_in_years" = 5

[parameters]  # the context: uncertainties, sampled
"propaganda.reach" = { min = 0.0, max = 0.2 }
"market.private_clinics" = { min = 50, max = 150 }

[packages]
status_quo = {}
same_again = {}
crackdown = { "enforcement.inspections_per_month" = 60 }

[design]
kind = "lhs"
n = 3

[outputs]
resolution = "end_year"
summary_years = 2
variables = ["srb", "enforcement_cost", "total_cost", "births"]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    path = folder / "packages.toml"
    path.write_text(SPEC, encoding="utf-8")
    out = folder / "packages.zarr"
    result = sweep.run_sweep(sweep_spec.load_spec(path), out, workers=1, progress=False)
    assert result.total == 3 * 3 * 2
    return out


def test_packages_meet_the_same_contexts_with_the_same_seeds(store):
    ds = sweep.open_sweep(store).load()
    assert dict(ds["srb"].sizes) == {"package": 3, "run": 3, "replicate": 2}
    assert ds["package"].values.tolist() == ["status_quo", "same_again", "crackdown"]
    assert ds["package_levers"].values.tolist()[2] == "enforcement.inspections_per_month = 60"
    assert ds["seed"].values.tolist() == replicate_seeds(21, 2)
    # common random numbers: two packages that change nothing give identical runs
    xr.testing.assert_identical(ds["births"].sel(package="status_quo", drop=True),
                                ds["births"].sel(package="same_again", drop=True))
    assert not np.array_equal(ds["enforcement_cost"].sel(package="crackdown").values,
                              ds["enforcement_cost"].sel(package="status_quo").values)
    # a package's run is that scenario run directly with that seed in that context
    spec = sweep_spec.load_spec(store.parent / "packages.toml")
    point = {"propaganda.reach": float(ds["propaganda.reach"][1]),
             "market.private_clinics": int(ds["market.private_clinics"][1]),
             "enforcement.inspections_per_month": 60}
    direct = popsim.run(popsim.load_scenario(spec.base, point), seed=replicate_seeds(21, 2)[0])
    expected = float(direct["enforcement_cost"].isel(year=slice(-2, None)).mean("year"))
    assert float(ds["enforcement_cost"].sel(package="crackdown").isel(run=1, replicate=0)) == \
        pytest.approx(expected)


def test_regret_and_share_best(store):
    ds = sweep.open_sweep(store)
    res = robustness.robustness(ds, "enforcement_cost", "min")
    cost = ds["enforcement_cost"].load().mean("replicate")  # package x run
    best = cost.min("package")
    np.testing.assert_allclose(res["regret"].values, (cost - best).values)
    np.testing.assert_allclose(res["max_regret"].values, (cost - best).max("run").values)
    # inspections cost money in every context: crackdown is never best; the two packages
    # without a change tie everywhere and share the wins
    assert res["share_best"].sel(package="crackdown") == 0
    assert float(res["share_best"].sel(package="status_quo")) == pytest.approx(0.5)
    assert float(res["max_regret"].sel(package="crackdown")) > 0
    assert float(res["share_best"].sum()) == pytest.approx(1.0)
    higher = robustness.robustness(ds, "enforcement_cost", "max")
    assert float(higher["share_best"].sel(package="crackdown")) == 1.0
    target = robustness.robustness(ds, "srb", target=106.0)
    srb = ds["srb"].load().mean("replicate")
    dist = abs(srb - 106.0)
    np.testing.assert_allclose(target["regret"].values, (dist - dist.min("package")).values)
    assert target.attrs["rule"] == "closest to 106 is best"


def test_robustness_command_table_and_figure(store, tmp_path, capsys):
    png = tmp_path / "regret.png"
    assert cli.main(["robustness", str(store), "--outcome", "total_cost", "--out",
                     str(png)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("package"))
    assert "share best" in lines[header] and "max regret" in lines[header]
    assert lines[header + 3].startswith("crackdown")  # the largest regret comes last
    assert "common random numbers" in out and "within replicate noise" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_packages_and_sensitivity_bad_input_exit_2(store, capsys):
    assert cli.main(["sensitivity", str(store), "--no-plot"]) == 2
    assert "--select package=VALUE" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(store), "--no-plot", "--select",
                     "package=crackdown", "--outcome", "total_cost",
                     "--method", "pawn"]) == 0
    assert "package=crackdown" in capsys.readouterr().out
    assert cli.main(["robustness", str(store), "--select", "package=crackdown"]) == 2
    assert "do not pin package" in capsys.readouterr().err


def test_robustness_needs_packages(tmp_path, capsys):
    text = SPEC[:SPEC.index("[packages]")] + SPEC[SPEC.index("[design]"):]
    path = tmp_path / "plain.toml"
    path.write_text(text.replace("replicates = 2", "replicates = 1").replace("n = 3", "n = 2"),
                    encoding="utf-8")
    store = tmp_path / "plain.zarr"
    sweep.run_sweep(sweep_spec.load_spec(path), store, workers=1, progress=False)
    assert cli.main(["robustness", str(store), "--no-plot"]) == 2
    assert "this sweep has no lever packages" in capsys.readouterr().err

"""Sensitivity analysis of real (tiny) sweeps: Sobol indices and the regression ranking."""

from __future__ import annotations

import numpy as np
import pytest

from popsim import cli
from popsim.experiments import sensitivity, sweep, sweep_spec

TINY = """
"run.households" = 2000
"run.start_year" = 2000
"run.end_year" = 2002
"run.burn_in_years" = 10
"""

# Enforcement cost is driven by inspections and not by the yearly daughter benefit; incentive
# payments the other way round. The analyses must find that, whatever the noise.
LEVERS = """
"enforcement.inspections_per_month" = { min = 0, max = 60 }
"incentives.benefit_per_year" = { min = 0, max = 6000 }
"""
OUTPUTS = """
[outputs]
resolution = "end_year"
summary_years = 3
variables = ["srb", "srb_by_parity", "enforcement_cost", "incentive_payments", "total_cost"]
"""


def _sweep(folder, design: str) -> sweep_spec.SweepSpec:
    text = f"scenario = \"county\"\nseed = 9\n[overrides]\n{TINY}\n[parameters]\n{LEVERS}\n" \
           f"[design]\n{design}\n{OUTPUTS}"
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    store = folder / "sweep.zarr"
    sweep.run_sweep(sweep_spec.load_spec(path), store, workers=1, progress=False)
    return store


@pytest.fixture(scope="module")
def sobol_store(tmp_path_factory):
    """Saltelli design, n = 4, two parameters, second order: 4 x (2 x 2 + 2) = 24 runs."""
    return _sweep(tmp_path_factory.mktemp("sobol"),
                  'kind = "sobol"\nn = 4\nsecond_order = true')


@pytest.fixture(scope="module")
def lhs_store(tmp_path_factory):
    return _sweep(tmp_path_factory.mktemp("lhs"), 'kind = "lhs"\nn = 8')


def test_sobol_indices_shape_and_ranking(sobol_store):
    ds = sweep.open_sweep(sobol_store)
    assert ds.sizes["run"] == 24
    res = sensitivity.analyze(ds, "enforcement_cost")
    assert res.attrs["method"] == "sobol"
    params = ["enforcement.inspections_per_month", "incentives.benefit_per_year"]
    assert res["parameter"].values.tolist() == params
    for name in ("S1", "S1_conf", "ST", "ST_conf"):
        assert res[name].dims == ("parameter",) and res[name].shape == (2,)
    assert res["S2"].shape == (2, 2) and res["S2_conf"].shape == (2, 2)
    st = res["ST"].values
    assert np.isfinite(st).all()
    # Inspections carry the variance of enforcement cost, the benefit next to none (under
    # common random numbers a lever that does not act changes no draw). n = 4 is far too small
    # for precise indices (the bootstrap half-widths say so), so only the ordering is asserted.
    assert st[0] > 0.1 and st[1] < st[0] / 2
    flipped = sensitivity.analyze(ds, "incentive_payments")["ST"].values
    assert flipped[1] > 0.1 and flipped[0] < flipped[1] / 2


def test_regression_ranking_on_lhs(lhs_store):
    ds = sweep.open_sweep(lhs_store)
    res = sensitivity.analyze(ds, "incentive_payments")
    assert res.attrs["method"] == "regression"
    assert res["src"].shape == res["src_conf"].shape == res["srrc"].shape == (2,)
    src, conf = np.abs(res["src"].values), res["src_conf"].values
    # the benefit drives incentive payments, positively, well beyond the bootstrap spread
    assert res["src"].values[1] > 0 and src[1] - conf[1] > src[0] + conf[0]
    assert 0 <= float(res["r2"]) <= 1
    text = sensitivity.table(res)
    assert text.index("incentives.benefit_per_year") < text.index("enforcement.inspections")
    with pytest.raises(sweep_spec.SpecError, match="need a sobol design"):
        sensitivity.sobol_indices(ds, "incentive_payments")


def test_sensitivity_command_table_and_chart(sobol_store, tmp_path, capsys):
    png = tmp_path / "bars.png"
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "total_cost", "--out",
                     str(png)]) == 0
    out = capsys.readouterr().out
    assert "Sobol indices" in out and "ST" in out and "enforcement.inspections_per_month" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scatter = tmp_path / "scatter.png"
    assert cli.main(["plot", str(sobol_store), "--outcome", "srb_by_parity", "--select",
                     "parity=1", "--out", str(scatter)]) == 0
    assert scatter.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sensitivity_bad_outcomes_exit_2(sobol_store, capsys):
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "srb_by_parity"]) == 2
    assert "--select parity=VALUE" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(sobol_store), "--outcome", "tfr"]) == 2
    assert "no variable 'tfr'" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(sobol_store), "--year", "2001"]) == 2
    assert "end-year summaries" in capsys.readouterr().err

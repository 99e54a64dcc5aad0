"""popsim: how policy shapes the sex ratio at birth.

An agent-based model of households, clinics and a county enforcement office, projecting the
effects of propaganda, incentives, real-name registration and crackdowns on the sex ratio at
birth (SRB), total and by birth order. Read the package top to bottom:

- :mod:`popsim.schema`      every parameter, declared once (default, unit, bounds, meaning, source)
- :mod:`popsim.scenario`    TOML scenario files: load, ``extends``, ``--set`` overrides, errors
- :mod:`popsim.params`      the scenario's values year by year, evaluated once per run
- :mod:`popsim.streams`     named random streams from one root seed (common random numbers)
- :mod:`popsim.households`  the vectorised households: desires, conception, selection, births
- :mod:`popsim.clinics`     providers (Mesa agents) and the illegal market
- :mod:`popsim.enforcement` the enforcement office (a Mesa agent) and its case ledger
- :mod:`popsim.model`       ``PopSimModel(mesa.Model)``: the monthly step order
- :mod:`popsim.recording`   yearly buffers -> ``xarray.Dataset``
- :mod:`popsim.api`         ``run(scenario, seed) -> Dataset`` (pure, picklable)
- :mod:`popsim.io`          atomic writes (netCDF, figures)
- :mod:`popsim.plotting`    figures of one run
- :mod:`popsim.cli`         the ``popsim`` command

For planners, researchers and teachers, built on ``run``:

- :mod:`popsim.executors`   serial, process-pool and dask executors (identical results)
- :mod:`popsim.compare`     packages of measures side by side (``popsim compare``), with
  :mod:`popsim.compare_report` for its table and figure
- :mod:`popsim.sweep_spec`  sweep specs: parameters, designs (grid, lhs, sobol), outputs
- :mod:`popsim.sweep`       running a sweep into a resumable zarr store (``popsim sweep``), with
  :mod:`popsim.sweep_cli`, :mod:`popsim.sweep_plot` and :mod:`popsim.sensitivity`
- :mod:`popsim.app`         the teaching app (``popsim app``; the ``app`` extra)

Quick start::

    import popsim
    ds = popsim.run("county", seed=1)
    ds.srb_by_parity.sel(year=2010)
"""

__version__ = "0.1.0"

from .api import run
from .model import PopSimModel
from .scenario import ScenarioError, available_scenarios, load_scenario
from .schema import Scenario

__all__ = ["run", "load_scenario", "available_scenarios", "Scenario", "ScenarioError",
           "PopSimModel"]

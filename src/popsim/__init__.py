"""popsim: how policy shapes the sex ratio at birth.

An agent-based model of households, clinics and a county enforcement office, projecting the
effects of propaganda, incentives, real-name registration and crackdowns on the sex ratio at
birth (SRB), total and by birth order. Read the package top to bottom; each layer imports only
from the layers above it in this list (``tests/test_architecture.py`` checks it):

- :mod:`popsim.errors`       one error hierarchy (exit code 2 for every input error), "did you mean"
- :mod:`popsim.io`           atomic writes (netCDF, text, figures) and stale-temporary cleanup
- :mod:`popsim.workload`     the size of a request (time, memory) checked before any work
- :mod:`popsim.scenario`     every parameter declared once; TOML scenarios, ``extends``, ``--set``;
  the embedded library; the scenario's values year by year
- :mod:`popsim.provenance`   what produced a dataset (scenario, seed, versions, commit)
- :mod:`popsim.model`        ``PopSimModel(mesa.Model)``, the clock, and its parts: streams,
  households, clinics, the enforcement office, the recorder
- :mod:`popsim.api`          ``run(scenario, seed) -> Dataset`` (pure, picklable)
- :mod:`popsim.experiments`  executors, ``compare``, sweeps, sensitivity analysis, robustness
- :mod:`popsim.validation`   observed data (``popsim/data``), targets and ``popsim score``
- :mod:`popsim.reports`      tables and figures of runs, comparisons and sweeps
- :mod:`popsim.cli`          the ``popsim`` command (one module per group of sub-commands)
- :mod:`popsim.app`          the teaching app (``popsim app``; the ``app`` extra)

Quick start::

    import popsim
    ds = popsim.run("county", seed=1)
    ds.srb_by_parity.sel(year=2010)

The names below are imported on first use, so that ``popsim --version`` and ``popsim scenarios``
do not import Mesa, xarray or the model.
"""

__version__ = "0.1.0"

__all__ = ["run", "load_scenario", "available_scenarios", "Scenario", "ScenarioError",
           "PopSimModel"]

_LAZY = {"run": "popsim.api", "PopSimModel": "popsim.model.model",
         "load_scenario": "popsim.scenario.loader", "available_scenarios": "popsim.scenario.loader",
         "Scenario": "popsim.scenario.parameters", "ScenarioError": "popsim.errors"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'popsim' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))

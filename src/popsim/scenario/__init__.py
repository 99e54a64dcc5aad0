"""Scenarios: what a run simulates, declared, loaded and evaluated year by year.

- :mod:`popsim.scenario.schema`      the machinery: parameter declarations, schedules, the one
  parsing path of every value, safe names
- :mod:`popsim.scenario.parameters`  every parameter, declared once (default, unit, bounds,
  meaning, source), and :class:`Scenario`
- :mod:`popsim.scenario.loader`      TOML files (hostile ones refused), ``extends``, ``--set``
  overrides, seeds, the embedded library (``library/*.toml``)
- :mod:`popsim.scenario.year`        the scenario's values for one calendar year

Importing this package does not import Mesa, xarray or the model.
"""

from ..errors import ScenarioError
from .loader import (DEFAULT_SCENARIO, available_scenarios, check_seed, check_value,
                     load_scenario, parse_overrides, read_toml, scenario_hash, scenario_to_dict,
                     scenario_to_toml, valid_paths)
from .parameters import SECTIONS, Scenario, iter_params, param_spec, parse_param
from .schema import ParamSpec, Schedule, check_name, value_at

__all__ = ["DEFAULT_SCENARIO", "SECTIONS", "ParamSpec", "Scenario", "ScenarioError", "Schedule",
           "available_scenarios", "check_name", "check_seed", "check_value", "iter_params",
           "load_scenario", "param_spec", "parse_overrides", "parse_param", "read_toml",
           "scenario_hash", "scenario_to_dict", "scenario_to_toml", "valid_paths", "value_at"]

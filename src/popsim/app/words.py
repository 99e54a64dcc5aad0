"""Plain words for the app: a setting as a class reads it, generated from the scenario schema.

The page and the lessons never show an internal name (``enforcement.inspections_per_month =
60``) or a bound nobody can read (a seed "in [0, 9223372036854775807]"). Everything here is
read from the schema's declarations (:func:`popsim.scenario.parameters.param_spec`): the name
of a setting is the head of its one-line meaning, its value is written with its unit, and
shares and chances are written as percentages. No name, unit or bound is written in this module.

- :func:`name`: ``enforcement.inspections_per_month`` -> "Routine clinic inspections in the
  county" (the meaning up to its first ``:`` or parenthesis);
- :func:`value_text`: ``("enforcement.tip_reward", 5000.0)`` -> "5,000 yuan";
  ``("registration.coverage", 1.0)`` -> "100%"; a choice ``two_child`` -> "two child";
- :func:`setting`: both, "Reward for a tip leading to a case: 5,000 yuan";
- :func:`bounds_text`: the allowed values, "from 0 to 1,000,000 yuan", "any whole number from 0".
"""

from __future__ import annotations

import math
from typing import Any

from ..scenario.parameters import param_spec

__all__ = ["name", "value_text", "setting", "bounds_text", "is_share"]

#: An upper bound at or above this is no limit a person types against: it is written as
#: "from <lo>" (the seed's 2**63 - 1, a count of inspections up to 10 million a month).
_NO_LIMIT = 1e7
_SHARE_UNITS = ("probability", "fraction")
_SHARE_WORDS = ("Share ", "Chance ")


def name(path: str) -> str:
    """The plain name of a setting: the head of the schema's meaning for it."""
    text = param_spec(path).description
    for stop in (":", " ("):
        text = text.split(stop)[0]
    return text.strip()


def is_share(path: str) -> bool:
    """True when the value is a share or a chance in [0, 1] (written as a percentage)."""
    spec = param_spec(path)
    return spec.kind == "float" and spec.lo == 0 and spec.hi == 1 and (
        spec.unit in _SHARE_UNITS or spec.description.startswith(_SHARE_WORDS))


def _number(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.6g}" if abs(x) >= 1 else f"{x:.6g}"


def _with_unit(path: str, x: float) -> str:
    unit = param_spec(path).unit
    return _number(x) if unit in ("-", "") else f"{_number(x)} {unit}"


def value_text(path: str, value: Any) -> str:
    """A value of ``path`` in plain words, with its unit (a schedule: "a schedule")."""
    spec = param_spec(path)
    if isinstance(value, (dict, list, tuple)) or hasattr(value, "years"):
        return "a schedule"
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "choice":
        return str(value).replace("_", " ")
    if isinstance(value, (int, float)) and is_share(path):
        return f"{100 * value:.3g}%"
    if isinstance(value, (int, float)):
        return _with_unit(path, value)
    return str(value)


def setting(path: str, value: Any) -> str:
    """``name: value`` of one setting, e.g. "Chance a pregnancy is registered: 100%"."""
    return f"{name(path)}: {value_text(path, value)}"


def bounds_text(path: str) -> str:
    """The values the schema allows for ``path``, in words."""
    spec = param_spec(path)
    if spec.kind == "choice":
        return "one of " + ", ".join(c.replace("_", " ") for c in spec.choices or ())
    if spec.kind == "bool":
        return "yes or no"
    whole = "any whole number" if spec.kind == "int" else "any number"
    lo, hi = spec.lo, spec.hi
    if is_share(path):
        return "from 0 to 1 (0.5 is 50%)"
    if hi is None or not math.isfinite(hi) or hi >= _NO_LIMIT:
        return f"{whole} from {_with_unit(path, lo)}" if lo is not None else whole
    if lo is None:
        return f"{whole} up to {_with_unit(path, hi)}"
    return f"from {_number(lo)} to {_with_unit(path, hi)}"

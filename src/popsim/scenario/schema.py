"""The machinery of the scenario schema: parameter declarations, schedules, value checks.

:func:`P` declares one parameter (default, unit, bounds, meaning, source, kind, ``off`` value);
:class:`Section` parses and bounds every value at load; :class:`Schedule` is a value that changes
over calendar years. The declarations themselves are in :mod:`popsim.scenario.parameters`.

Any field marked schedulable may be given as a constant or as a schedule over calendar years,
``[[year, value], ...]`` (linear interpolation between points, constant outside them), or
``{ step = [[year, value], ...] }`` (each value holds from its year until the next point).
Choice and yes/no fields always step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, did_you_mean

__all__ = ["Schedule", "ParamSpec", "P", "Section", "InputError", "parse_value", "value_at", "Num", "Flag"]


# --------------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True)
class Schedule:
    """A value that changes over calendar years.

    ``years`` are strictly increasing; ``interp`` is ``"linear"`` or ``"step"``. Before the first
    point the first value holds, after the last point the last value holds.
    """

    years: tuple[float, ...]
    values: tuple[Any, ...]
    interp: Literal["linear", "step"] = "linear"

    def at(self, year: float) -> Any:
        """The value in (fractional) calendar ``year``."""
        if self.interp == "linear":
            return float(np.interp(year, self.years, self.values))
        i = int(np.searchsorted(self.years, year, side="right")) - 1
        return self.values[max(i, 0)]

    def to_toml(self) -> Any:
        pts = [[_num(y), v] for y, v in zip(self.years, self.values)]
        return pts if self.interp == "linear" else {"step": pts}


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def value_at(value: Any, year: float) -> Any:
    """Evaluate a field value (constant or :class:`Schedule`) in ``year``."""
    return value.at(year) if isinstance(value, Schedule) else value


# --------------------------------------------------------------------------------------------
# Field declarations


@dataclass(frozen=True)
class ParamSpec:
    """What the schema says about one field (read from its declaration)."""

    path: str
    default: Any
    unit: str
    description: str
    lo: float | None
    hi: float | None
    kind: str  # "float", "int", "bool", "choice", "months", "text"
    choices: tuple[str, ...] | None
    schedulable: bool
    source: str
    section_kind: str  # "run", "context" or "lever"
    off: Any = None  # the lever's value when the measure is not applied (and in burn-in)

    def bounds_text(self) -> str:
        if self.kind == "choice":
            return " | ".join(self.choices or ())
        if self.kind == "bool":
            return "true | false"
        lo = "-inf" if self.lo is None else _fmt(self.lo)
        hi = "inf" if self.hi is None else _fmt(self.hi)
        return f"[{lo}, {hi}]"


def _fmt(x: float) -> str:
    return str(_num(x)) if isinstance(x, (int, float)) else str(x)


def P(
    default: Any,
    unit: str,
    description: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    kind: str = "float",
    choices: tuple[str, ...] | None = None,
    schedule: bool = True,
    source: str = "",
    off: Any = None,
) -> Any:
    """Declare one parameter (a pydantic ``Field`` carrying popsim's metadata).

    ``off`` is the value of a lever when the measure is not applied: the value it takes during
    the burn-in years, which reproduce a county without the comprehensive measures.
    """
    if kind in ("months", "text"):
        schedule = False
    extra = dict(unit=unit, lo=lo, hi=hi, kind=kind, choices=choices, schedule=schedule,
                 source=source, off=off)
    return Field(default=default, description=description, json_schema_extra=extra)




def _check_scalar(name: str, meta: dict, v: Any) -> Any:
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(v, bool):
            raise InputError(f"{name} must be true or false, got {v!r}")
        return v
    if kind == "choice":
        if v not in meta["choices"]:
            hint = did_you_mean(v, meta["choices"])
            raise InputError(f"{name} = {v!r} is not one of {', '.join(meta['choices'])}{hint}")
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{name} must be a number, got {v!r}")
    if kind == "int":
        if not float(v).is_integer():
            raise InputError(f"{name} must be a whole number, got {v!r}")
        v = int(v)
    else:
        v = float(v)
        if not np.isfinite(v):
            raise InputError(f"{name} must be finite, got {v!r}")
    lo, hi, unit = meta["lo"], meta["hi"], meta["unit"]
    if lo is not None and v < lo:
        raise InputError(f"{name} = {_fmt(v)} is below the lower bound {_fmt(lo)} ({unit})")
    if hi is not None and v > hi:
        raise InputError(f"{name} = {_fmt(v)} is above the upper bound {_fmt(hi)} ({unit})")
    return v


def parse_value(name: str, meta: dict, v: Any) -> Any:
    kind = meta["kind"]
    if kind == "text":
        if not isinstance(v, str):
            raise InputError(f"{name} must be a string, got {v!r}")
        return v
    if kind == "months":
        if not isinstance(v, list) or not all(isinstance(m, int) and 1 <= m <= 12 for m in v):
            raise InputError(f"{name} must be a list of month numbers 1-12, got {v!r}")
        return tuple(sorted(set(v)))
    if isinstance(v, Schedule):
        return v
    interp = "step" if kind in ("bool", "choice") else "linear"
    points = None
    if isinstance(v, dict):
        if set(v) == {"step"}:
            interp, points = "step", v["step"]
        elif set(v) == {"linear"} and kind not in ("bool", "choice"):
            points = v["linear"]
        else:
            raise InputError(f"{name}: a schedule table takes one key, 'step' or 'linear'; "
                             f"got {sorted(v)}")
    elif isinstance(v, list):
        points = v
    if points is None:
        return _check_scalar(name, meta, v)
    if not meta["schedule"]:
        raise InputError(f"{name} cannot be a schedule; give one value")
    if not points or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise InputError(f"{name}: a schedule is a list of [year, value] pairs, got {v!r}")
    years = []
    for p in points:
        y = p[0]
        if isinstance(y, bool) or not isinstance(y, (int, float)):
            raise InputError(f"{name}: schedule year {y!r} is not a number")
        years.append(float(y))
    if any(b <= a for a, b in zip(years, years[1:])):
        raise InputError(f"{name}: schedule years must be strictly increasing, got "
                         f"{[_num(y) for y in years]}")
    values = tuple(_check_scalar(f"{name} (in {_num(y)})", meta, p[1])
                   for y, p in zip(years, points))
    return Schedule(tuple(years), values, interp)


class Section(BaseModel):
    """Base of every scenario section: strict keys, values parsed and bounded at load."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              validate_default=True)
    kind: ClassVar[str] = "context"
    title: ClassVar[str] = ""
    #: the section's key in a scenario file, set by :data:`popsim.scenario.parameters.SECTIONS`
    section: ClassVar[str] = ""

    @classmethod
    def meta(cls, field: str) -> dict:
        """The popsim metadata of ``field``; whole-number fields are those annotated ``int``."""
        info = cls.model_fields[field]
        meta = dict(info.json_schema_extra)
        if info.annotation is int:
            meta["kind"], meta["schedule"] = "int", False
        return meta

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, v: Any, info: Any) -> Any:
        meta = cls.meta(info.field_name)
        return parse_value(f"{cls.section}.{info.field_name}", meta, v)


Num = float | Schedule
Flag = bool | Schedule

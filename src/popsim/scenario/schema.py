"""The machinery of the scenario schema: parameter declarations, schedules, value checks.

:func:`P` declares one parameter (default, unit, bounds, meaning, source, kind, ``off`` value);
:class:`Section` parses and bounds every value at load; :class:`Schedule` is a value that changes
over calendar years. The declarations themselves are in :mod:`popsim.scenario.parameters`.

Any field marked schedulable may be given as a constant or as a schedule over calendar years,
``[[year, value], ...]`` (linear interpolation between points, constant outside them), or
``{ step = [[year, value], ...] }`` (each value holds from its year until the next point).
Choice and yes/no fields always step. Schedule years are finite and within the years a run can
simulate (:attr:`Section.schedule_years`). :func:`parse_value` is the one path every value
takes, whether from a file, ``--set``, the app or a sweep spec; :func:`check_name` is the one
rule for names that become part of output paths.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, did_you_mean, shown

__all__ = ["Schedule", "ParamSpec", "P", "Section", "parse_value", "value_at", "check_name",
           "NAME_RULE", "Num", "Flag"]


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
    off: Any = None  # the lever's value when the measure is not applied (a no-measures baseline)
    fixed: bool = False  # a constant of the model's rules, not a lever (see :func:`P`)

    def bounds_text(self) -> str:
        if self.kind == "choice":
            return " | ".join(self.choices or ())
        if self.kind == "bool":
            return "true | false"
        lo = "-inf" if self.lo is None else _fmt(self.lo)
        hi = "inf" if self.hi is None else _fmt(self.hi)
        return f"[{lo}, {hi}]"


def _fmt(x: float) -> str:
    return shown(x) if isinstance(x, (int, float)) else str(x)


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
    fixed: bool = False,
) -> Any:
    """Declare one parameter (a pydantic ``Field`` carrying popsim's metadata).

    ``off`` is the value of a lever when the measure is not applied: the value a baseline with
    none of the comprehensive measures gives it in every year (``compare``'s derived baseline,
    the app's shadow run). ``fixed``
    marks a constant of the model's rules (a share, a cap, a span) that is no policy lever and
    no calibration target: declared here so that it is documented and can be swept, never
    schedulable.
    """
    if kind in ("months", "text") or fixed:
        schedule = False
    extra = dict(unit=unit, lo=lo, hi=hi, kind=kind, choices=choices, schedule=schedule,
                 source=source, off=off, fixed=fixed)
    return Field(default=default, description=description, json_schema_extra=extra)




# --------------------------------------------------------------------------------------------
# Parsing: the one path every value takes (files, --set, the app, sweep specs)

_NUMBER = (int, float, np.integer, np.floating)


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, (bool, np.bool_))


def _expects(meta: dict) -> str:
    """What a field takes, in words: ``a number in [0, 1]``, ``true or false``, ``one of ...``."""
    kind = meta["kind"]
    if kind == "bool":
        return "true or false"
    if kind == "choice":
        return "one of " + ", ".join(meta["choices"])
    lo = "-inf" if meta["lo"] is None else _fmt(meta["lo"])
    hi = "inf" if meta["hi"] is None else _fmt(meta["hi"])
    return f"{'a whole number' if kind == 'int' else 'a number'} in [{lo}, {hi}]"


def _check_scalar(name: str, meta: dict, v: Any) -> Any:
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(v, (bool, np.bool_)):
            raise InputError(f"{name} must be true or false, got {shown(v)}")
        return bool(v)
    if kind == "choice":
        if not isinstance(v, str) or v not in meta["choices"]:
            hint = did_you_mean(v, meta["choices"])
            raise InputError(f"{name} = {shown(v)} is not one of {', '.join(meta['choices'])}"
                             f"{hint}")
        return v
    if not _is_number(v):
        raise InputError(f"{name} must be {_expects(meta)}, got {shown(v)}")
    if isinstance(v, (np.integer, np.floating)):
        v = v.item()
    if kind == "int":
        if isinstance(v, float) and not v.is_integer():
            raise InputError(f"{name} must be {_expects(meta)}, got {shown(v)}")
    elif isinstance(v, float) and not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {shown(v)}")
    lo, hi, unit = meta["lo"], meta["hi"], meta["unit"]
    unit = f" ({unit})" if unit and unit != "-" else ""
    # ints are compared exactly (a seed near 2**63, an integer beyond any float)
    if lo is not None and v < lo:
        raise InputError(f"{name} = {shown(v)} is below the lower bound {_fmt(lo)}{unit}")
    if hi is not None and v > hi:
        raise InputError(f"{name} = {shown(v)} is above the upper bound {_fmt(hi)}{unit}")
    return int(v) if kind == "int" else float(v)


def _is_month(m: Any) -> bool:
    return isinstance(m, (int, np.integer)) and not isinstance(m, (bool, np.bool_)) \
        and 1 <= m <= 12


def _keys(table: dict) -> str:
    return ", ".join(shown(k) for k in list(table)[:5]) if table else "an empty table"


def parse_value(name: str, meta: dict, v: Any) -> Any:
    """Parse and bound one value of the field ``name`` whose popsim metadata is ``meta``.

    ``v`` is a constant, a schedule ``[[year, value], ...]`` or ``{step = [[year, value], ...]}``
    (or a :class:`Schedule`, checked again like one read from a file). Raises
    :class:`InputError` with one line naming the field, what it takes and the bound broken.
    """
    kind = meta["kind"]
    if kind == "text":
        if not isinstance(v, str):
            raise InputError(f"{name} must be a string, got {shown(v)}")
        return v
    if kind == "months":
        if not isinstance(v, list) or not all(_is_month(m) for m in v):
            raise InputError(f"{name} must be a list of month numbers 1-12 (e.g. [5, 6, 7]), "
                             f"got {shown(v)}")
        return tuple(sorted({int(m) for m in v}))
    if isinstance(v, Schedule):
        v = v.to_toml()
    if isinstance(v, (dict, list)) and not meta["schedule"]:
        # a table or list where one value is expected: say what the field takes, and no
        # schedule syntax, since this field cannot be one
        form = "a table" if isinstance(v, dict) else "a list"
        raise InputError(f"{name} takes a single value ({_expects(meta)}), not {form}")
    interp = "step" if kind in ("bool", "choice") else "linear"
    if isinstance(v, dict):
        keys = list(v)
        if kind in ("bool", "choice"):
            if keys != ["step"]:
                what = "a choice" if kind == "choice" else "a yes/no field"
                raise InputError(f"{name} is {what}: its schedule table takes only 'step' (each "
                                 f"value holds from its year: {{ step = [[year, value], ...] }}); "
                                 f"got {_keys(v)}")
        elif keys not in (["step"], ["linear"]):
            raise InputError(f"{name}: a schedule table takes one key, 'step' or 'linear'; "
                             f"got {_keys(v)}")
        interp, points = keys[0], v[keys[0]]
    elif isinstance(v, list):
        points = v
    else:
        return _check_scalar(name, meta, v)
    if not isinstance(points, list) or not points \
            or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise InputError(f"{name}: a schedule is a list of [year, value] pairs, got {shown(v)}")
    first, last = meta.get("years") or (-math.inf, math.inf)
    span = f"{first}-{last}" if math.isfinite(first) else ""
    years = []
    for p in points:
        y = p[0]
        if not _is_number(y) or (isinstance(y, float) and not math.isfinite(y)):
            raise InputError(f"{name}: schedule year {shown(y)} is not a finite number"
                             + (f" (years are {span})" if span else ""))
        if not first <= y <= last:
            raise InputError(f"{name}: schedule year {shown(y)} is outside the years a run can "
                             f"simulate, {span}")
        years.append(float(y))
    if any(b <= a for a, b in zip(years, years[1:])):
        raise InputError(f"{name}: schedule years must be strictly increasing, got "
                         f"{shown([_num(y) for y in years])}")
    values = tuple(_check_scalar(f"{name} (in {_fmt(y)})", meta, p[1])
                   for y, p in zip(years, points))
    return Schedule(tuple(years), values, interp)


#: what a scenario's (or a spec's) name may be: it becomes part of output paths
NAME_RULE = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")


def check_name(value: object, what: str = "name") -> str:
    """``value`` if it is safe as one component of an output path (``results/<name>/...``):
    :data:`NAME_RULE`, and no ``..``; else an :class:`InputError` saying why."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {shown(value)}")
    if _SAFE_NAME.fullmatch(value) and ".." not in value:
        return value
    if not value:
        reason = "it is empty"
    elif len(value) > 64:
        reason = f"it has {len(value):,} characters"
    elif "/" in value or "\\" in value:
        reason = "it contains a path separator"
    elif ".." in value:
        reason = "it contains '..'"
    elif not _SAFE_NAME.match(value[0]):
        reason = f"it starts with {shown(value[0])}"
    else:
        reason = f"it contains {shown(next(c for c in value if not _NAME_CHAR.match(c)))}"
    raise InputError(f"{what} = {shown(value)} is not a safe name ({reason}): a name becomes "
                     f"part of output paths; use {NAME_RULE}")


class Section(BaseModel):
    """Base of every scenario section: strict keys, values parsed and bounded at load."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              validate_default=True)
    kind: ClassVar[str] = "context"
    title: ClassVar[str] = ""
    #: the section's key in a scenario file, set by :data:`popsim.scenario.parameters.SECTIONS`
    section: ClassVar[str] = ""
    #: the calendar years a schedule may name: the years a run can simulate, from the lowest
    #: run.start_year minus the longest run.burn_in_years to the highest run.end_year (read
    #: from the declaration of the run section when it is defined)
    schedule_years: ClassVar[tuple[int, int] | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields
        if cls.kind == "run" and {"start_year", "end_year", "burn_in_years"} <= set(fields):
            def bound(field: str, end: str) -> int:
                return int(fields[field].json_schema_extra[end])

            Section.schedule_years = (bound("start_year", "lo") - bound("burn_in_years", "hi"),
                                      bound("end_year", "hi"))

    @classmethod
    def meta(cls, field: str) -> dict:
        """The popsim metadata of ``field``; whole-number fields are those annotated ``int``."""
        info = cls.model_fields[field]
        meta = dict(info.json_schema_extra)
        if info.annotation is int:
            meta["kind"], meta["schedule"] = "int", False
        meta["years"] = Section.schedule_years
        return meta

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, v: Any, info: Any) -> Any:
        meta = cls.meta(info.field_name)
        return parse_value(f"{cls.section}.{info.field_name}", meta, v)


Num = float | Schedule
Flag = bool | Schedule

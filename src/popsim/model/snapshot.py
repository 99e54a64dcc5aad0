"""Snapshots: the whole state of a run at 1 January of a year, to continue it under new levers.

:func:`take` copies a :class:`~popsim.model.model.PopSimModel` at a January boundary (every part:
the households' arrays, the clinics' columns and their Mesa agents, the office and its ledger,
accountability, the recorder's buffers, the random streams' positions, Mesa's ``rng`` and
``random``, the datacollector, the fertility-policy regime); :func:`resume` builds a new model
that continues from it with another scenario's values from that year on. A run resumed from the
snapshot of year ``Y`` is identical (``xarray.testing.assert_identical``) to a run of the new
scenario from the start, provided the two scenarios agree on everything that acted before ``Y``;
:func:`resume` checks that and refuses otherwise.

What acts before ``Y``: the model reads the scenario only through its year values
(:class:`~popsim.scenario.year.YearParams`: every field of every section, the run settings
included, evaluated at 1 January of each year), the first year's at construction and year
``y``'s during year ``y``. So two scenarios lead to the same state at 1 January ``Y`` exactly
when their year values agree in every year from ``run.start_year - run.burn_in_years`` to
``Y - 1`` (and in that first year, which builds the model, when ``Y`` is the first year). The
lever histories are part of them: a lever acts in the burn-in as in any other year (see
:mod:`popsim.scenario.year`), so scenarios share a burn-in only if their levers agree before
``run.start_year``.

How: the model is pickled whole (every attribute of every part, whatever the parts hold), except
the scenario and its year values, which are written as references and bound, on resume, to the
new scenario's: any part holding this year's values (``model.p``, an incentive rule) then reads
the new scenario's. Restoring is an unpickling, a copy of the arrays (milliseconds for a county).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import math
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa

from ..errors import ScenarioError
from ..scenario.loader import check_seed, load_scenario
from ..scenario.parameters import Scenario
from ..scenario.year import YearParams, YearValues
from .model import PopSimModel

__all__ = ["Snapshot", "take", "resume", "release", "burn_in_key", "burn_in_years"]

#: Changes when the meaning of a key changes (bump it with the year values' layout).
_KEY_VERSION = "popsim-burn-in-1"


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The whole state of one run at 1 January of ``year`` (picklable, immutable).

    ``year`` is the calendar year whose January is the next month to simulate, ``seed`` the
    run's root seed, ``nbytes`` the approximate size in memory (bytes), ``first_year`` the
    first simulated year (``run.start_year - run.burn_in_years``), ``scenario_name`` the name
    of the scenario the run had.
    """

    year: int
    seed: int
    nbytes: int
    first_year: int
    scenario_name: str
    #: the pickled model, the scenario and its year values left out as references
    _state: bytes = field(repr=False)
    #: the year values that acted before ``year`` (those of ``first_year`` at least)
    _acted: tuple[YearValues, ...] = field(repr=False)
    #: the next ``unique_id`` Mesa gives an agent of this model (None: Mesa keeps it itself)
    _next_agent_id: int | None = field(repr=False)


def burn_in_years(scenario: Scenario) -> range:
    """The years whose values act before ``run.start_year``: the burn-in years, or the first
    year alone (it builds the model) when there is no burn-in."""
    r = scenario.run
    first = r.start_year - r.burn_in_years
    return range(first, max(r.start_year, first + 1))


def burn_in_key(scenario: Scenario, seed: int) -> str:
    """A digest (hex) of everything that acts before ``run.start_year``: the seed and every
    year value of :func:`burn_in_years` (every field of every section, run settings included).
    Equal keys imply identical model states at 1 January of ``run.start_year``."""
    seed = check_seed(seed, "seed")
    years = burn_in_years(scenario)
    values = YearParams(scenario, years.start, years.stop - 1)
    text = repr((_KEY_VERSION, seed, [values[y] for y in years]))
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------------------------------------
# take


class _Pickler(pickle.Pickler):
    """Writes the model, with the objects of ``refs`` (by identity) as references."""

    def __init__(self, file: io.BytesIO, refs: dict[int, tuple]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._refs = refs

    def persistent_id(self, obj: Any) -> tuple | None:
        return self._refs.get(id(obj))


def _references(model: PopSimModel) -> dict[int, tuple]:
    """The scenario (and its sections), its year values and their sections, by identity: what
    resume rebinds to the new scenario's."""
    config = model.config
    refs: dict[int, tuple] = {id(config): ("scenario",), id(model.years): ("years",)}
    for name in type(config).model_fields:  # a part holding a section of the scenario itself
        part = getattr(config, name)
        if not isinstance(part, (str, int, float, bool, type(None))):
            refs[id(part)] = ("config", name)
    for year in range(model.first_year, model.t_end // 12):
        values = model.years[year]
        refs[id(values)] = ("year", year)
        for f in dataclasses.fields(values):
            part = getattr(values, f.name)
            if dataclasses.is_dataclass(part):
                refs[id(part)] = ("section", year, f.name)
    return refs


def _next_agent_id(model: PopSimModel) -> int | None:
    """Mesa 3.3 numbers agents with a counter per model kept by the Agent class; read it
    without advancing it (its repr is ``count(n)``)."""
    ids = getattr(mesa.Agent, "_ids", None)
    if not isinstance(ids, dict) or model not in ids:
        return None
    m = re.fullmatch(r"count\((\d+)\)", repr(ids[model]))
    return int(m.group(1)) if m else None


def release(model: PopSimModel, discard: bool = False) -> None:
    """Let a model be garbage-collected: Mesa 3.3 keeps each model's agent counter in a
    class-level dict keyed by the model (``mesa.Agent._ids``), which holds every model ever
    built, and its households' arrays, alive. A finished run makes no more agents; with
    ``discard`` the caller promises that an unfinished model will never step again (the app
    drops the runs of a lesson it leaves)."""
    ids = getattr(mesa.Agent, "_ids", None)
    if (model.finished or discard) and isinstance(ids, dict):
        ids.pop(model, None)


def take(model: PopSimModel) -> Snapshot:
    """The whole state of ``model`` now; only at a January boundary (``model.t % 12 == 0``).

    The model is not changed and may go on running."""
    if model.t % 12:
        raise ScenarioError(f"a snapshot is taken at 1 January; the model is in month "
                            f"{model.t % 12 + 1} of {model.t // 12}")
    year = model.t // 12
    buf = io.BytesIO()
    _Pickler(buf, _references(model)).dump(model)
    state = buf.getvalue()
    acted = tuple(model.years[y] for y in range(model.first_year, max(year, model.first_year + 1)))
    return Snapshot(year=year, seed=model.seed, nbytes=len(state), first_year=model.first_year,
                    scenario_name=model.config.name, _state=state, _acted=acted,
                    _next_agent_id=_next_agent_id(model))


# ------------------------------------------------------------------------------------------------
# resume


class _Unpickler(pickle.Unpickler):
    """Reads a model, binding the references to the new scenario and its year values."""

    def __init__(self, data: bytes, scenario: Scenario, years: YearParams):
        super().__init__(io.BytesIO(data))
        self._scenario = scenario
        self._years = years

    def persistent_load(self, pid: tuple) -> Any:
        kind = pid[0]
        if kind == "scenario":
            return self._scenario
        if kind == "years":
            return self._years
        if kind == "config":
            return getattr(self._scenario, pid[1])
        if kind == "year":
            return self._years[pid[1]]
        if kind == "section":
            return getattr(self._years[pid[1]], pid[2])
        raise pickle.UnpicklingError(f"unknown reference {pid!r} in a popsim snapshot")


def _same(a: Any, b: Any) -> bool:
    """Equal values (NaN equals NaN: an unknown value acts the same in both)."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a)
                      and math.isnan(b))


def _first_difference(old: YearValues, new: YearValues) -> str | None:
    """``section.field`` of the first value on which two years' values differ, with both."""
    if old == new:
        return None
    for s in dataclasses.fields(old):
        if s.name == "year":
            continue
        a_sec, b_sec = getattr(old, s.name), getattr(new, s.name)
        for f in dataclasses.fields(a_sec):
            a, b = getattr(a_sec, f.name), getattr(b_sec, f.name)
            if not _same(a, b):
                return f"{s.name}.{f.name} = {b!r} (the snapshot's run had {a!r})"
    return None


def resume(snapshot: Snapshot, scenario: Scenario | str | Path) -> PopSimModel:
    """A new model continuing from ``snapshot`` with ``scenario``'s values from
    ``snapshot.year`` on (its provenance is ``scenario``'s).

    Raises :class:`~popsim.errors.ScenarioError` when ``scenario`` differs from the snapshot's
    scenario in anything that acted before ``snapshot.year``: the run settings (start, end,
    burn-in, households, scale, ``run.seed``), the context, or a lever's value in an earlier
    year. Stepped to the end, the model gives the dataset a fresh run of ``scenario`` with
    ``snapshot.seed`` gives.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    r = scenario.run
    first = r.start_year - r.burn_in_years
    where = (f"scenario '{scenario.name}' cannot continue the snapshot of 1 January "
             f"{snapshot.year} (of '{snapshot.scenario_name}', seed {snapshot.seed})")
    if first != snapshot.first_year:
        raise ScenarioError(f"{where}: its run starts in {first} (run.start_year - "
                            f"run.burn_in_years), the snapshot's in {snapshot.first_year}")
    if snapshot.year > r.end_year + 1:
        raise ScenarioError(f"{where}: run.end_year = {r.end_year} ends before the snapshot")
    years = YearParams(scenario, first, r.end_year)
    for old in snapshot._acted:
        diff = _first_difference(old, years[old.year])
        if diff is not None:
            raise ScenarioError(f"{where}: in {old.year}, before the snapshot, {diff}; only "
                                f"values from {snapshot.year} on may differ")
    model = _Unpickler(snapshot._state, scenario, years).load()
    if snapshot._next_agent_id is not None:
        mesa.Agent._ids[model] = itertools.count(snapshot._next_agent_id)
    return model

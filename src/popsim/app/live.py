"""One live run of the county behind the teaching app, with a snapshot of every January.

A :class:`LiveRun` is a :class:`popsim.PopSimModel` stepped a calendar year at a time. At each
1 January it reaches from ``run.start_year`` on, it takes a snapshot of the whole model
(:func:`popsim.model.snapshot.take`, about 0.7 MB at 10,000 households, 7 MB at 100,000), so
that a lever changed from 1 January of a year continues from that year's snapshot with the
switched scenario (:func:`popsim.model.snapshot.resume`, tens of milliseconds) instead of
replaying the run from its burn-in, and a restart from the first year skips the burn-in.

Memory is bounded: a run keeps its snapshots while together they stay within
:data:`SNAPSHOT_BYTES`, and beyond that drops the oldest, except the first year's (a restart
needs it) and the latest (a change now needs it). At 10,000 households the 21 Januaries of a
run take about 15 MB, all kept; at 100,000 households the budget keeps the first year's and the
latest few. A :class:`Starts` cache shares the snapshots of 1 January of the first year between
runs whose burn-ins are identical (equal :func:`popsim.model.snapshot.burn_in_key`): the
shadow, a reset, a lesson whose two configurations differ only from the first year on.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
import xarray as xr

from ..model import snapshot as snapshots
from ..model.clinics import COUNTY_WIDE, OUTSIDE
from ..model.model import PopSimModel
from ..scenario.parameters import Scenario
from .lessons import Config

__all__ = ["LiveRun", "Starts", "SNAPSHOT_BYTES", "STARTS"]

#: The most bytes of snapshots one run keeps (the first year's and the latest are always kept).
SNAPSHOT_BYTES = 32 * 2**20
#: First-year snapshots a classroom keeps for runs that share a burn-in (least recently used
#: dropped first): 4 MB at 10,000 households.
STARTS = 6


class Starts:
    """Snapshots of 1 January of ``run.start_year`` by burn-in key (bounded, least recently
    used dropped first)."""

    def __init__(self, size: int = STARTS):
        self.size = size
        self._items: OrderedDict[str, snapshots.Snapshot] = OrderedDict()

    def get(self, key: str) -> snapshots.Snapshot | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: str, snap: snapshots.Snapshot) -> None:
        self._items[key] = snap
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._items.values())


class LiveRun:
    """One configuration of the county, burnt in at construction and stepped year by year.

    ``start`` is a snapshot to continue from (of 1 January of a year, whose scenario agrees
    with ``scenario`` before that year); ``starts`` a shared cache of first-year snapshots;
    ``budget`` the bytes of snapshots it keeps (None: :data:`SNAPSHOT_BYTES`; 0 keeps only the first
    year's and the latest, all that a lever change or a restart needs).
    """

    def __init__(self, config: Config, scenario: Scenario, seed: int, until: int | None = None,
                 start: snapshots.Snapshot | None = None, starts: Starts | None = None,
                 budget: int | None = None):
        self.config = config
        self.scenario = scenario
        self.seed = seed
        self.budget = budget
        self.start_year = scenario.run.start_year
        self.end_year = scenario.run.end_year
        self.januaries: dict[int, snapshots.Snapshot] = {}
        self._cache: tuple[int, xr.Dataset | None] = (-1, None)
        key = snapshots.burn_in_key(scenario, seed) if starts is not None else ""
        if start is None and starts is not None:
            start = starts.get(key)
        self.model = (PopSimModel(scenario, seed) if start is None
                      else snapshots.resume(start, scenario))
        # when the page drops this run, Mesa must drop its model too (see snapshots.release)
        weakref.finalize(self, snapshots.release, self.model, True)
        if start is not None:
            self.januaries[start.year] = start
        self.advance_to(self.start_year)
        self._keep()  # 1 January of the first year (reached without a step when no burn-in)
        if starts is not None and start is None:
            starts.put(key, self.januaries[self.start_year])
        if until is not None:
            self.advance_to(until)

    @property
    def year(self) -> int:
        """The next calendar year to simulate (``end_year + 1`` when finished)."""
        return self.model.year

    @property
    def done(self) -> int:
        """Recorded years completed."""
        return max(self.model.year - self.start_year, 0)

    @property
    def finished(self) -> bool:
        return self.model.finished

    @property
    def snapshot_bytes(self) -> int:
        return sum(s.nbytes for s in self.januaries.values())

    def advance_to(self, year: int) -> None:
        """Step month by month until 1 January of ``year`` (or the end of the run), with a
        snapshot at each January of a recorded year."""
        while not self.model.finished and self.model.year < year:
            self.model.step()
            self._keep()
        if self.model.finished:
            snapshots.release(self.model)  # Mesa holds every model it numbers agents for

    def advance_year(self) -> None:
        self.advance_to(self.model.year + 1)

    def _keep(self) -> None:
        year = self.model.year
        if (self.model.t % 12 or not self.start_year <= year <= self.end_year
                or year in self.januaries):
            return
        self.januaries[year] = snapshots.take(self.model)
        spare = sorted(y for y in self.januaries if y not in (self.start_year, year))
        budget = SNAPSHOT_BYTES if self.budget is None else self.budget
        while spare and self.snapshot_bytes > budget:
            del self.januaries[spare.pop(0)]

    def continued(self, config: Config, scenario: Scenario) -> LiveRun:
        """A new run of ``scenario`` continuing this one from 1 January of the year it has
        reached (``scenario`` must agree with this run's before that year), or, when this run
        has finished, from 1 January of the first year (a restart without the burn-in)."""
        year = self.start_year if self.finished else self.year
        run = LiveRun(config, scenario, self.seed, start=self.januaries[year],
                      budget=self.budget)
        # the states of the earlier Januaries are the new run's too (the scenarios agree
        # before ``year``): a later restart or change can start from them
        run.januaries = {y: s for y, s in self.januaries.items() if y <= year}
        return run

    def dataset(self) -> xr.Dataset | None:
        """The completed years as a dataset (the variables of :mod:`popsim.model.recording`)."""
        if self._cache[0] != self.done:
            ds = self.model.dataset().isel(year=slice(0, self.done)) if self.done else None
            self._cache = (self.done, ds)
        return self._cache[1]

    def clinics(self) -> dict[str, Any]:
        """Providers by township now: offering illegal services, open and not offering, closed
        (blacklisted, or an underground provider that gave up). The last two slots are the
        county-wide hospitals and the providers outside the county."""
        col, towns = self.model.market.col, self.model.townships
        town = col["township"].astype(np.int64)
        slot = np.where(town == COUNTY_WIDE, towns, np.where(town == OUTSIDE, towns + 1, town))
        is_open, offering = col["open"], col["open"] & col["offering"]
        n = towns + 2
        return {"labels": [str(i + 1) for i in range(towns)] + ["county", "outside"],
                "offering": np.bincount(slot[offering], minlength=n),
                "open": np.bincount(slot[is_open & ~offering], minlength=n),
                "closed": np.bincount(slot[~is_open], minlength=n)}

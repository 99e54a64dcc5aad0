"""The observed data popsim is scored on, read from ``popsim/data/observations.csv``.

Each row is one observation: a quantity (``srb``, ``srb_by_parity``, ``p_another_child``, ...), the
calendar years it refers to, a subset (``parity=2;residence=rural``), the value and its band
``[low, high]``, the rule that set the band and the source file. The source files are copies of
public figures (``popsim/data/*.csv``, each naming its source in its header; see
``popsim/data/SOURCES.md``); ``tests/test_validation_observed.py`` checks every value against
its file. Nothing outside the package is read.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass, field
from importlib import resources

from ..errors import InputError, did_you_mean

__all__ = ["Observation", "observations", "get_observation", "parse_subset", "data_file",
           "counted_tfr"]


@dataclass(frozen=True)
class Observation:
    """One observed figure with its uncertainty band.

    ``value`` lies in ``[low, high]``; an infinite bound means the observation only bounds the
    quantity from one side (a speed limit, a qualitative direction).
    """

    id: str
    file: str
    quantity: str
    year_from: int
    year_to: int
    subset: dict[str, str] = field(default_factory=dict)
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    band_rule: str = ""
    note: str = ""

    @property
    def years(self) -> tuple[int, int]:
        return (self.year_from, self.year_to)

    @property
    def se(self) -> float:
        """Standard error implied by the band, read as a 95% interval (NaN for one-sided)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return math.nan
        return (self.high - self.low) / (2 * 1.96)

    @property
    def source(self) -> str:
        return f"{self.file}: {self.note}" if self.file else self.note


def parse_subset(text: str) -> dict[str, str]:
    """``"parity=2;residence=rural"`` -> ``{"parity": "2", "residence": "rural"}``."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"subset {text!r}: expected key=value, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def data_file(name: str):
    """A file of ``popsim/data`` as an importlib resource."""
    return resources.files("popsim").joinpath("data", name)


def _rows(name: str) -> csv.DictReader:
    """The rows of a CSV file of ``popsim/data`` (its ``#`` header lines, the source, left out)."""
    text = data_file(name).read_text(encoding="utf-8")
    return csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))


@functools.cache
def observations() -> dict[str, Observation]:
    """Every observation, by id, in file order."""
    out = {}
    for r in _rows("observations.csv"):
        obs = Observation(r["id"], r["file"], r["quantity"], int(r["year_from"]),
                          int(r["year_to"]), parse_subset(r["subset"]), float(r["value"]),
                          float(r["low"]), float(r["high"]), r["band_rule"], r["note"])
        if not obs.low <= obs.value <= obs.high:
            raise ValueError(f"observations.csv: {obs.id}: value outside its band")
        out[obs.id] = obs
    return out


def get_observation(obs_id: str, where: str = "") -> Observation:
    """The observation ``obs_id``; an :class:`InputError` naming ``where`` if there is none."""
    obs = observations()
    if obs_id not in obs:
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}unknown observation '{obs_id}'{did_you_mean(obs_id, obs)}")
    return obs[obs_id]


@functools.cache
def counted_tfr() -> tuple[tuple[int, float], ...]:
    """China's TFR as its censuses and surveys counted it (``tfr_counted`` rows of
    ``china_context.csv``), by year: (year, children per woman), in year order. The counts
    after 1990 are well below the adjusted TFR (1.22 against 1.6 in 2000): births went
    unreported, mostly higher-order ones."""
    return tuple(sorted((int(r["year"]), float(r["value"])) for r in _rows("china_context.csv")
                        if r["indicator"] == "tfr_counted"))

"""Target files: which observations a history scenario is scored on, and how.

A target file (``popsim/validation/targets/<scenario>.toml``, or any path) names the scenario and
lists targets::

    scenario = "china"
    description = "China's national history"

    [[target]]
    observation = "srb_parity2_2000"   # an id of popsim/data/observations.csv
    group = "srb_by_parity"            # targets of a group share a figure and a summary
    tolerance = 4.0                    # pass if |model - observed| <= 4 (or "band": inside it)
    # optional: statistic (default: the observation's quantity), years = [y0, y1] and subset
    # (default: the observation's), label, holdout = true (scored, never fitted: a calibration
    # leaves the target out, so that it checks the fit instead of shaping it)

Pooling over years and replicates is part of each statistic (:mod:`.statistics`), so a target
is never one noisy year of one run unless its file says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import InputError, check_keys, did_you_mean
from ..scenario.loader import parse_toml, read_toml
from .observed import Observation, get_observation
from .statistics import STATISTICS

__all__ = ["Target", "TargetSet", "load_targets", "available_targets"]

_TOP_KEYS = ("scenario", "description", "replicates", "target")
_TARGET_KEYS = ("observation", "group", "tolerance", "statistic", "years", "subset", "label",
                "holdout")


@dataclass(frozen=True)
class Target:
    """One scored comparison: a statistic of the model against one observation."""

    observation: Observation
    group: str
    statistic: str
    years: tuple[int, int]
    subset: dict[str, str] = field(default_factory=dict)
    tolerance: float | str = "band"
    label: str = ""
    #: scored by ``popsim score`` but left out of every calibration (:mod:`popsim.calibration`)
    holdout: bool = False

    @property
    def id(self) -> str:
        return self.observation.id

    def passes(self, model: float) -> bool:
        """Whether the model's value is within tolerance of the observation."""
        if not math.isfinite(model):
            return False
        obs = self.observation
        if self.tolerance == "band":
            return obs.low <= model <= obs.high
        return abs(model - obs.value) <= float(self.tolerance)


@dataclass(frozen=True)
class TargetSet:
    """The targets of one scenario, in file order."""

    scenario: str
    description: str
    replicates: int
    targets: tuple[Target, ...]
    source: str

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(t.group for t in self.targets))


def _targets_dir():
    return resources.files("popsim.validation").joinpath("targets")


def available_targets() -> list[str]:
    """Names of the embedded target files (one per history scenario)."""
    return sorted(p.name[:-5] for p in _targets_dir().iterdir() if p.name.endswith(".toml"))


def _read(source: str | Path) -> tuple[dict, str]:
    """The tables of a target file (one reader for every popsim TOML file) and its label."""
    text_source = str(source)
    if text_source.endswith(".toml") or Path(text_source).exists():
        return read_toml(Path(text_source), text_source, InputError), text_source
    names = available_targets()
    if text_source not in names:
        raise InputError(f"no target file for '{text_source}'{did_you_mean(text_source, names)}; "
                         f"embedded target files: {', '.join(names)} (or give a .toml path with "
                         f"--targets)")
    label = f"targets/{text_source}.toml"
    text = _targets_dir().joinpath(f"{text_source}.toml").read_text(encoding="utf-8")
    return parse_toml(text, label, InputError), label


def _years(value, where: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in value)
            or value[0] > value[1]):
        raise InputError(f"{where}: years must be [first, last] calendar years, got {value!r}")
    return int(value[0]), int(value[1])


def load_targets(source: str | Path) -> TargetSet:
    """Read a target file (an embedded name such as ``"china"`` or a path)."""
    data, label = _read(source)
    check_keys(data, _TOP_KEYS, label, InputError)
    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise InputError(f"{label}: 'scenario' (the scenario the targets score) is required")
    replicates = data.get("replicates", 4)
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise InputError(f"{label}: replicates must be a whole number >= 1, got {replicates!r}")
    rows = data.get("target", [])
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{label}: no [[target]] tables")
    targets = []
    for i, row in enumerate(rows, 1):
        where = f"{label}: target {i}"
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a table")
        check_keys(row, _TARGET_KEYS, where, InputError)
        if "observation" not in row or "group" not in row:
            raise InputError(f"{where}: 'observation' and 'group' are required")
        obs = get_observation(str(row["observation"]), where)
        statistic = str(row.get("statistic", obs.quantity))
        if statistic not in STATISTICS:
            raise InputError(f"{where}: unknown statistic '{statistic}'"
                             f"{did_you_mean(statistic, STATISTICS)}")
        years = _years(row["years"], where) if "years" in row else obs.years
        subset = dict(obs.subset)
        extra = row.get("subset", {})
        if not isinstance(extra, dict):
            raise InputError(f"{where}: subset must be a table of key = \"value\"")
        subset.update({str(k): str(v) for k, v in extra.items()})
        bad = [k for k in subset if k not in STATISTICS[statistic].subset_keys]
        if bad:
            raise InputError(f"{where}: statistic '{statistic}' takes no subset key '{bad[0]}'")
        tol = row.get("tolerance", "band")
        if tol != "band" and (isinstance(tol, bool) or not isinstance(tol, (int, float))
                              or not tol >= 0):
            raise InputError(f"{where}: tolerance must be a number >= 0 or \"band\", got {tol!r}")
        label_text = str(row.get("label", "")) or _default_label(obs, statistic, years, subset)
        holdout = row.get("holdout", False)
        if not isinstance(holdout, bool):
            raise InputError(f"{where}: holdout must be true or false, got {holdout!r}")
        if holdout and "label" not in row:
            label_text += " (held out)"
        targets.append(Target(obs, str(row["group"]), statistic, years, subset, tol, label_text,
                              holdout))
    return TargetSet(scenario, str(data.get("description", "")), replicates, tuple(targets),
                     label)


def _default_label(obs: Observation, statistic: str, years: tuple[int, int],
                   subset: dict[str, str]) -> str:
    when = f"{years[0]}" if years[0] == years[1] else f"{years[0]}-{years[1]}"
    parts = [f"{k} {v}" for k, v in subset.items() if k != "before"]
    if "before" in subset:
        parts.append(f"since {subset['before']}")
    return " ".join([statistic.replace("_", " "), when] + ([f"({', '.join(parts)})"]
                                                           if parts else []))

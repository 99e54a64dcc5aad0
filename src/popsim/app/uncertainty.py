"""The app's "with uncertainty" switch: extra members of the main configuration whose behaviour
coefficients are drawn from a calibration posterior, and the band they draw.

When the switch is on, the classroom runs :data:`MEMBERS` extra copies of its main
configuration (the teacher's levers in free play, configuration A in a lesson; never the shadow
or B, to bound the cost) beside the main runs, stepped together with them year by year. Member
``i`` is the main configuration's scenario with draw ``i`` of the shipped posterior
(:data:`POSTERIOR`, :meth:`popsim.experiments.ensemble.Posterior.draws` with the classroom's
seed) and its own seed (``replicate_seeds(seed, MEMBERS)[i]``), the convention of
``popsim run --ensemble``. The members' spread therefore holds both the seed noise of one
county-sized run and the uncertainty of the calibrated coefficients.

The band (:func:`band`) is, in each completed year, the range of the members' 3-year rolling SRB:
min to max for fewer than :data:`QUANTILE_MEMBERS` members (5% and 95% quantiles of so few runs
would be the min and max anyway), the 5-95% quantiles for more; the legend says which. The main
run keeps the schema's default coefficients, the posterior's medians, while the members take
its draws (the china calibration is approximate: its README says it is not a fit), so the main
line need not lie inside the band. The posterior's lever parameter (china's programme
intensity) is not the lesson's and is left out
(:func:`popsim.experiments.ensemble.scenario_bound`).

Cost: each member is a full run of the county at the classroom's households, with its own
burn-in (its coefficients differ, so it cannot share the main run's). The switch is refused
when ``MEMBERS x households`` exceeds the app's limit :data:`~popsim.app.classroom.MAX_HOUSEHOLDS`
(the same bound as one run's size: about 4 s of burn-in in all).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ..errors import ScenarioError
from ..experiments.ensemble import Posterior, ensemble_scenarios, read_posterior
from ..model.streams import replicate_seeds
from ..scenario.parameters import Scenario

__all__ = ["MEMBERS", "POSTERIOR", "QUANTILE_MEMBERS", "SOURCE", "posterior", "member_seeds",
           "member_scenarios", "check_size", "band_kind", "band"]

#: Extra runs of the main configuration while the switch is on.
MEMBERS = 6
#: The shipped posterior the members draw from (``popsim/calibrations/china_posterior.nc``).
POSTERIOR = "china"
#: From this many members on, the band is the 5-95% quantiles; below it, min to max.
QUANTILE_MEMBERS = 8
#: Where the members' coefficients come from, as the page says it.
SOURCE = "behaviour coefficients drawn from the China calibration (approximate)"


@lru_cache(maxsize=1)
def posterior() -> Posterior:
    """The shipped posterior (read once per process; it is immutable)."""
    return read_posterior(POSTERIOR)


def member_seeds(seed: int, k: int = MEMBERS) -> list[int]:
    """Seed of each member: ``replicate_seeds(seed, k)`` (as ``popsim run --replicates``)."""
    return replicate_seeds(seed, k)


def member_scenarios(scenario: Scenario, seed: int, k: int = MEMBERS) -> list[Scenario]:
    """``k`` copies of ``scenario``, copy ``i`` with posterior draw ``i`` (draws of ``seed``)."""
    return ensemble_scenarios(scenario, posterior(), k, seed)


def check_size(households: int, limit: int, k: int = MEMBERS) -> None:
    """Refuse the switch when ``k`` members of ``households`` households exceed ``limit``
    households in all (the classroom passes the app's limit on one run)."""
    if k * households > limit:
        raise ScenarioError(
            f"'with uncertainty' runs {k} more copies of the county: at {households:,} "
            f"households that is {k * households:,} households, above the app's limit of "
            f"{limit:,}; choose at most {limit // k:,} households for it")


def band_kind(k: int) -> str:
    """What the band of ``k`` members spans, for its legend."""
    return "min-max" if k < QUANTILE_MEMBERS else "5-95%"


def band(lines: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Low and high edge per year of the members' ``lines`` (equal lengths; NaN where a member
    has no value): min and max below :data:`QUANTILE_MEMBERS` members, else 5% and 95%."""
    values = np.vstack([np.asarray(v, dtype=float) for v in lines])
    empty = np.all(~np.isfinite(values), axis=0)
    values = np.where(empty, 0.0, values)  # keeps nan-reductions quiet on empty years
    if len(lines) < QUANTILE_MEMBERS:
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    else:
        lo, hi = np.nanpercentile(values, [5, 95], axis=0)
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


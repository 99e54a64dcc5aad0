"""Accountability: the reported SRB the county is held to, and what pressure on it does.

Officials were ranked on the SRB their county reported ("red warnings", the one-vote veto). The
office registers the births families do not hide (a girl is concealed with probability
``behaviour.concealment``; the model keeps hidden over-quota births of either sex away from the
office altogether). Of the registered births, the office leaves a share of the boys out of the
figures it reports upward (data management under pressure). At each new year the
REPORTED SRB of the year before, the figure the county is judged on, is compared with
``enforcement.srb_target``; for each point above it

* enforcement effort rises by ``enforcement.accountability`` (the multiplier of next year's
  inspections and follow-ups, :meth:`popsim.model.enforcement.EnforcementOffice.act`), and
* the share of male births left out rises by ``enforcement.misreport``; what was set up stays:
  the share carries over at ``enforcement.misreport_persistence`` a year, at most
  ``enforcement.misreport_cap``.

Because misreporting acts on the figure at once while effort acts on the true SRB only through
the market and the households' decisions, the reported SRB falls faster than the true one when
pressure is on; once the figure meets the target the pressure, and the extra effort, relax
while the misreporting stays: the figure looks better than the truth. Both levers are 0 by
default; the ``accountability_pressure`` scenario turns them on.
"""

from __future__ import annotations

import numpy as np

from ..scenario.year import BehaviourValues, EnforcementValues
from .streams import Streams

__all__ = ["Accountability", "excess"]


def excess(reported_srb: float, target: float) -> float:
    """Points of reported SRB above the target (0 at or below it, or when it is unknown)."""
    return max(0.0, reported_srb - target) if np.isfinite(reported_srb) else 0.0


class Accountability:
    """The office's count of reported births, and this year's effort and misreporting."""

    def __init__(self) -> None:
        self._reported = np.zeros(2)  # male, female births in this year's figures
        #: reported SRB of the last completed year, the figure the county is judged on (NaN
        #: before a year is complete)
        self.reported_srb = float("nan")
        #: multiplier of this year's enforcement effort
        self.effort = 1.0
        #: chance this year that a registered male birth is left out of the figures
        self.misreport = 0.0

    def reported(self, streams: Streams, t: int, idx: np.ndarray, male: np.ndarray,
                 b: BehaviourValues) -> np.ndarray:
        """Which of this month's births (mothers ``idx``) are in the reported figures: a girl
        is concealed by her family with probability ``concealment``, a registered boy is left
        out by the office with this year's misreporting chance."""
        shown = np.ones(idx.size, dtype=bool)
        # no draw is below a chance of 0: those are not drawn (the draws are counter-based, so
        # leaving some out changes no other)
        if b.concealment > 0:
            shown &= ~(~male & (streams.uniform("concealment", t, idx) < b.concealment))
        if self.misreport > 0:
            shown &= ~(male & (streams.uniform("misreport", t, idx) < self.misreport))
        boys = np.count_nonzero(male & shown)
        self._reported += (boys, np.count_nonzero(shown) - boys)
        return shown

    def new_year(self, e: EnforcementValues) -> None:
        """Close last year's figures: their SRB sets this year's effort and misreporting."""
        m, f = self._reported
        self.reported_srb = last = 100.0 * m / f if f > 0 else float("nan")
        self._reported = np.zeros(2)
        over = excess(last, e.srb_target)
        self.effort = 1.0 + e.accountability * over
        self.misreport = min(e.misreport_cap,
                             self.misreport * e.misreport_persistence + e.misreport * over)

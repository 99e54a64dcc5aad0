"""Accountability: the reported SRB the county is held to, and what pressure on it does.

Officials were ranked on the SRB their county reported ("red warnings", the one-vote veto). The
office sees every birth registered: all male births and the female births not concealed by
their families (``behaviour.concealment``). At each new year, the reported SRB of the year before
is compared with ``enforcement.srb_target``; for each point above it

* enforcement effort rises by ``enforcement.accountability`` (the inspection multiplier of the
  next year, :meth:`popsim.model.enforcement.EnforcementOffice.act`), and
* ``enforcement.misreport`` of the male births go unreported next year (data management under
  pressure), at most ``enforcement.misreport_cap``.

Both are 0 by default; the ``accountability_pressure`` scenario turns them on. Misreporting is
the only way the reported SRB can fall below the true one (concealment of girls raises it).
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
        self._seen = np.zeros(2)  # male, female births the office saw this year
        #: reported SRB of the last completed year (NaN before one is complete)
        self.reported_srb = float("nan")
        #: multiplier of this year's enforcement effort
        self.effort = 1.0
        #: chance this year that a male birth goes unreported
        self.misreport = 0.0

    def reported(self, streams: Streams, t: int, idx: np.ndarray, male: np.ndarray,
                 b: BehaviourValues) -> np.ndarray:
        """Which of this month's births (mothers ``idx``) are reported: a girl is concealed by
        her family with probability ``concealment``, a boy left out by the office with this
        year's misreporting chance. Counts what the office saw (before its own misreporting)."""
        hidden = np.where(male, streams.uniform("misreport", t, idx) < self.misreport,
                          streams.uniform("concealment", t, idx) < b.concealment)
        shown = ~hidden
        self._seen += [male.sum(), (~male & shown).sum()]
        return shown

    def new_year(self, e: EnforcementValues) -> None:
        """Close last year's count: its reported SRB sets this year's effort and misreporting."""
        m, f = self._seen
        self.reported_srb = last = 100.0 * m / f if f > 0 else float("nan")
        self._seen = np.zeros(2)
        over = excess(last, e.srb_target)
        self.effort = 1.0 + e.accountability * over
        self.misreport = min(e.misreport_cap, e.misreport * over)

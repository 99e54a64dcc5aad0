"""Benefit incentives: who qualifies, and what qualifying is worth to a household.

One :class:`Eligibility` per year answers every question the model asks about the incentives
lever (``[incentives]``), so that the eligibility rule is read in one place:

* **at birth** (:meth:`~Eligibility.paid_at_birth`): which births earn the one-off
  ``girl_birth_cash``: a girl born to a household without a son (``daughters_only``), or a
  first-born girl (``small_family``);
* **at certification** (:meth:`~Eligibility.qualifies_at_certification`, each January, for
  households that have stopped): a daughter and no son (``daughters_only``, China's "reward and
  assistance" scheme), or exactly one child of either sex (``small_family``, as Haryana's
  Devirupak scheme);
* the **present value** of the yearly benefit at a woman's age (:meth:`~Eligibility.present_value`,
  the cost booked at certification and the value households perceive);
* the **pull** on the abortion decision (:meth:`~Eligibility.pull`): the value of keeping a
  daughter, in years of income, felt under ``daughters_only`` by households aware of the scheme;
* the **pledge** (:meth:`~Eligibility.pledges`): under ``small_family``, an aware household plans
  to stop at one child with chance ``v / (v + pledge_half_value)``, v the benefit in years of
  income; a pledged first birth is her last, so the squeeze on it is full (how such schemes can
  raise the SRB).

The readings differ on purpose where the schemes do: a household values ``daughters_only`` when
it decides an abortion (benefit and birth cash), but values ``small_family`` only when it plans
its family (the pledge, without the birth cash); the cash is paid whether or not the household
knew of it.
"""

from __future__ import annotations

import numpy as np

from ..scenario.year import IncentivesValues

__all__ = ["Eligibility", "NONE", "DAUGHTERS_ONLY", "SMALL_FAMILY"]

NONE, DAUGHTERS_ONLY, SMALL_FAMILY = "none", "daughters_only", "small_family"


class Eligibility:
    """The incentive rule of one year and the values that follow from it."""

    def __init__(self, values: IncentivesValues) -> None:
        self.values = values
        self.rule = values.eligibility
        r, years = values.discount_rate, values.benefit_years
        #: years of benefit an annuity of 1 a year is worth at its start (discounted)
        self.annuity = years if r == 0 else (1 - (1 + r) ** -years) / r

    def present_value(self, age_years: np.ndarray) -> np.ndarray:
        """Present value (yuan) at ``age_years`` of the yearly benefit of a qualifying household,
        which starts at ``benefit_start_age``."""
        v = self.values
        r = v.discount_rate
        wait = np.maximum(v.benefit_start_age - age_years, 0.0)
        return v.benefit_per_year * self.annuity * (1 + r) ** -wait

    def paid_at_birth(self, male: np.ndarray, sons_before: np.ndarray,
                      parity_before: np.ndarray) -> np.ndarray:
        """Births that earn ``girl_birth_cash`` (True per birth)."""
        if self.rule == DAUGHTERS_ONLY:
            return ~male & (sons_before == 0)
        if self.rule == SMALL_FAMILY:
            return ~male & (parity_before == 0)
        return np.zeros(male.size, dtype=bool)

    @property
    def certifies(self) -> bool:
        """Whether anyone can be certified this year (a rule and a benefit)."""
        return self.rule != NONE and self.values.benefit_per_year > 0

    def qualifies_at_certification(self, sons: np.ndarray, daughters: np.ndarray,
                                   parity: np.ndarray) -> np.ndarray:
        """Households (that have stopped) whose family qualifies for the yearly benefit."""
        if self.rule == DAUGHTERS_ONLY:
            return (sons == 0) & (daughters > 0)
        if self.rule == SMALL_FAMILY:
            return parity == 1
        return np.zeros(sons.size, dtype=bool)

    @property
    def pulls(self) -> bool:
        """Whether the scheme pulls on abortion decisions (see :meth:`pull`)."""
        return self.rule == DAUGHTERS_ONLY

    @property
    def pledging(self) -> bool:
        """Whether households may pledge this year (see :meth:`pledges`)."""
        return self.rule == SMALL_FAMILY

    def pull(self, aware: np.ndarray, age_years: np.ndarray, income: np.ndarray) -> np.ndarray:
        """Perceived value of keeping a daughter, in years of income: the benefit's present
        value plus the birth cash, for households aware of a ``daughters_only`` scheme; zero
        otherwise (a ``small_family`` scheme acts through the pledge)."""
        if not self.pulls:
            return np.zeros(aware.size)
        value = self.present_value(age_years) + self.values.girl_birth_cash
        return aware * value / income

    def pledges(self, aware: np.ndarray, age_years: np.ndarray, income: np.ndarray,
                u: np.ndarray) -> np.ndarray:
        """Households that plan to stop at one child (``small_family`` only, if aware), given
        their fixed uniform draw ``u``."""
        if not self.pledging:
            return np.zeros(aware.size, dtype=bool)
        v = self.present_value(age_years) / income
        return aware & (u < v / (v + self.values.pledge_half_value))

"""The coordinates of the output: the labels of every dimension the recorder fills.

Defined once here, imported by the recorder (which turns them into dataset coordinates) and by
the parts whose counts they label (the office counts cases by source, the households are grouped
by age), so that the recorder depends on no other part of the model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARITIES", "SEXES", "ROUTES", "LOCATIONS", "CASE_SOURCES", "AGE_GROUPS",
           "parity_index", "age_group_index"]

#: Birth order of a birth: first, second, third or later.
PARITIES = ["1", "2", "3+"]
SEXES = ["male", "female"]
#: Route of a sex determination: the 16-week ultrasound or the early (blood) test.
ROUTES = ["ultrasound", "early_test"]
#: Where an illegal service was bought.
LOCATIONS = ["county", "out_of_county"]
#: How the office found a case (the order of :class:`~popsim.model.enforcement.OfficeMonth`
#: ``cases``).
CASE_SOURCES = ("inspection", "tip", "registration", "audit")
#: Five-year age groups 15-19 ... 45-49 (for the TFR).
AGE_GROUPS = [f"{a}-{a + 4}" for a in range(15, 50, 5)]


def parity_index(parity_before: np.ndarray) -> np.ndarray:
    """Index into :data:`PARITIES` of a birth to a mother with ``parity_before`` children."""
    return np.minimum(parity_before, len(PARITIES) - 1)


def age_group_index(age_months: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_GROUPS` of an age in months (ages outside 15-49 are clipped)."""
    return np.clip(age_months // 60 - 3, 0, len(AGE_GROUPS) - 1)

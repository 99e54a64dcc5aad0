"""The coordinates of the output: the labels of every dimension the recorder fills.

Defined once here, imported by the recorder (which turns them into dataset coordinates) and by
the parts whose counts they label (the office counts cases by source, the households are grouped
by age), so that the recorder depends on no other part of the model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARITIES", "SEXES", "ROUTES", "LOCATIONS", "CASE_SOURCES", "AGE_GROUPS",
           "RESIDENCES", "REGIMES", "COMPOSITIONS", "CHILD_GROUPS", "CHILD_GROUP_YEARS",
           "CHILDREN", "CHILD_AGES", "parity_index", "age_group_index", "children_index"]

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
#: Hukou residence of a household.
RESIDENCES = ["urban", "rural"]
#: Local fertility rules, from the strictest to no limit (the household's own rule: the national
#: regime, its residence and its local exemption; :mod:`popsim.model.fertility_policy`).
REGIMES = ["one_child", "one_and_half", "two_child", "three_child", "none"]
#: Sex compositions of a woman's first k children in the census sibship table (Ebenstein 2010,
#: Table 1): k = 1, 1, 2, 2 (either order), 2, 3.
COMPOSITIONS = ["one boy", "one girl", "two boys", "girl and boy", "two girls", "three girls"]
#: Age groups of living children: five-year groups and the school stages of the county reports,
#: with their ages in completed years, [from, to) (groups overlap).
CHILD_GROUP_YEARS = {"0-4": (0, 5), "5-9": (5, 10), "10-14": (10, 15), "15-19": (15, 20),
                     "kindergarten 3-5": (3, 6), "primary 6-11": (6, 12),
                     "junior high 12-14": (12, 15), "senior high 15-17": (15, 18)}
CHILD_GROUPS = list(CHILD_GROUP_YEARS)
#: Children ever born of a woman (for women_by_children).
CHILDREN = ["0", "1", "2", "3+"]
#: Age of a child at death: infancy, 1-4, 5-17 years.
CHILD_AGES = ["0", "1-4", "5-17"]


def parity_index(parity_before: np.ndarray) -> np.ndarray:
    """Index into :data:`PARITIES` of a birth to a mother with ``parity_before`` children."""
    return np.minimum(parity_before, len(PARITIES) - 1)


def children_index(parity: np.ndarray) -> np.ndarray:
    """Index into :data:`CHILDREN` of a woman with ``parity`` children ever born."""
    return np.minimum(parity, len(CHILDREN) - 1)


def age_group_index(age_months: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_GROUPS` of an age in months (ages outside 15-49 are clipped)."""
    return np.clip(age_months // 60 - 3, 0, len(AGE_GROUPS) - 1)

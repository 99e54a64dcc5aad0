"""Fertility policy as China had it: local rules by share of the population, over-quota births
and the social maintenance fee.

**Local rules.** The national regime (``policy.regime``) is not one rule for everyone. Each
woman gets a *local rule group* at entry (:data:`GROUPS`): most rural women follow the national
regime's rural rule, but a share follow the urban rule (strict one-child provinces,
``policy.rural_one_child_share``) and a share are exempt up to two or three children whatever the
national regime (two-child provinces, minorities: ``policy.two_child_share``,
``policy.three_child_share``; Gu et al. 2007 give 35.4% of the population under one-child rules,
53.6% under 1.5-child, 9.7% two-child and 1.3% three or more c. 2000). Urban women follow the
urban rule. Her **local rule** (:func:`local_regime`, labels :data:`~popsim.model.coords.REGIMES`)
is the more generous of her group's floor and the national rule for her residence, and its
**limit** (:func:`limit`) the births it allows (``POLICY_LIMITS``; the 1.5-child rule allows a
second child if the first is a girl).

**Over-quota births.** A woman who wants another child beyond her local limit decides each time
she is evaluated (after a birth, and each January while held back) whether to have it anyway:
a logit (:func:`overquota_probability`) in her wish (a base wish for a child within her desired
size, more when she needs a son), her residence, and the expected social maintenance fee
(社会抚养费, ``policy.maintenance_fee`` years of the mean income of her residence, collected with
``policy.fee_collection`` unless the birth is hidden from registration) relative to her income,
weighed like any price (``behaviour.cost_weight``). This replaces a flat violation chance: the
fee is a lever, and richer households pay their way past the limit.
"""

from __future__ import annotations

import numpy as np

from ..scenario.year import POLICY_LIMITS, YearValues
from .coords import REGIMES

__all__ = ["GROUPS", "NATIONAL", "ONE_CHILD", "TWO_CHILD", "THREE_CHILD", "draw_groups",
           "local_regime", "local_table", "limit_table", "limit", "overquota_probability",
           "expected_fee_share"]

#: Local rule groups drawn at entry (the ``rule`` state): the national rule of her residence,
#: the urban (one-child) rule although rural, at least two children, at least three.
NATIONAL, ONE_CHILD, TWO_CHILD, THREE_CHILD = 0, 1, 2, 3
GROUPS = ("national", "one_child", "two_child", "three_child")

_RANK = {name: i for i, name in enumerate(REGIMES)}  # from the strictest to no limit


def _table() -> np.ndarray:
    """Local rule index for [national regime, rural, group]."""
    floor = {NATIONAL: 0, ONE_CHILD: 0, TWO_CHILD: _RANK["two_child"],
             THREE_CHILD: _RANK["three_child"]}
    t = np.zeros((len(REGIMES), 2, len(GROUPS)), dtype=np.int8)
    for national, r in _RANK.items():
        # the 1.5-child rule is rural: urban women (and strict rural provinces) have one child
        urban = _RANK["one_child"] if national == "one_and_half" else r
        for rural in (0, 1):
            for g in range(len(GROUPS)):
                own = r if rural and g != ONE_CHILD else urban
                t[r, rural, g] = max(own, floor[g]) if rural else own
    return t


_LOCAL = _table()
#: births allowed by each local rule: [rule, first child a girl]
_LIMITS = np.array([[POLICY_LIMITS[name][1], POLICY_LIMITS[name][2]] for name in REGIMES],
                   dtype=np.int64)


def draw_groups(u: np.ndarray, rural: np.ndarray, p: YearValues) -> np.ndarray:
    """Local rule groups of entering women from uniform draws ``u`` (urban women: national).
    The shares are taken in the order one-child, two-child, three-child, up to 1 in total."""
    pol = p.policy
    edges = np.minimum(np.cumsum([pol.rural_one_child_share, pol.two_child_share,
                                  pol.three_child_share]), 1.0)
    g = np.where(u < edges[0], ONE_CHILD, np.where(u < edges[1], TWO_CHILD,
                                                   np.where(u < edges[2], THREE_CHILD, NATIONAL)))
    return np.where(rural, g, NATIONAL).astype(np.int8)


def local_regime(regime: str, rural: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index into :data:`~popsim.model.coords.REGIMES` of each household's local rule."""
    return _LOCAL[_RANK[regime], rural.astype(np.int64), group.astype(np.int64)]


def local_table(regime: str) -> np.ndarray:
    """Local rule indices under the national ``regime``, ``[rural, group]`` (int8)."""
    return _LOCAL[_RANK[regime]]


_LIMIT_TABLES = {name: _LIMITS[_LOCAL[r]] for name, r in _RANK.items()}


def limit_table(regime: str) -> np.ndarray:
    """Births allowed under the national ``regime``, ``[rural, group, first child a girl]``."""
    return _LIMIT_TABLES[regime]


def limit(regime: str, rural: np.ndarray, group: np.ndarray,
          first_girl: np.ndarray) -> np.ndarray:
    """Births each household's local rule allows (``first_girl``: its first child is a girl,
    or is judged as if she were)."""
    return _LIMITS[local_regime(regime, rural, group), first_girl.astype(np.int64)]


def fee_multiple(excess) -> np.ndarray:
    """The fee of a birth ``excess`` births above the limit (1 for the first over-quota child),
    in multiples of ``policy.maintenance_fee``: it is owed again for each further child, so the
    k-th child over quota costs k times (local rules charge higher multiples for higher
    orders)."""
    return np.maximum(excess, 1)


def expected_fee_share(income_mult: np.ndarray, excess, p: YearValues) -> np.ndarray:
    """Expected maintenance fee of an over-quota birth in years of the household's own income:
    the fee (years of the mean income of her residence, :func:`fee_multiple`) / her income
    relative to that mean, if it is collected and the birth is not hidden."""
    pol, b = p.policy, p.behaviour
    return (pol.maintenance_fee * fee_multiple(excess) * pol.fee_collection
            * (1.0 - b.overquota_concealment) / income_mult)


def overquota_probability(need: np.ndarray, rural: np.ndarray, income_mult: np.ndarray,
                          excess, p: YearValues) -> np.ndarray:
    """Chance, at one evaluation, that a household wanting a child ``excess`` births over its
    local limit (1: the first over-quota child) has it anyway; ``need``: she needs a son."""
    b = p.behaviour
    logit = (b.overquota_intercept + b.overquota_son * need + b.overquota_rural * rural
             - b.cost_weight * expected_fee_share(income_mult, excess, p))
    return 1.0 / (1.0 + np.exp(-logit))

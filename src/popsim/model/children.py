"""Each woman's children: sex, birth month and survival of the first :data:`MAX_CHILDREN`, the
facts of a month's births (:class:`Births`), and the year-end census counts read from them.

A household stores its children in four arrays (:mod:`popsim.model.households` owns them):
``child_male``, ``child_dead`` and ``child_away`` are ``uint8`` bitmasks (bit ``k``: her
``k``-th child, from 0, is a boy / has died / lives away from her household) and
``child_born`` is an ``(n, 8)`` ``int16`` array of birth months (``year * 12 + month``, which
fits int16 up to the year 2730). Children beyond the eighth are counted in parity and in the
living sons and daughters but not stored (and never die): at most a few per 10,000 women.
``parity`` stays the number of children ever born; ``sons`` and ``daughters`` are the living
ones.

:func:`census` is the year-end cross-section of the women present (the statistics of
:mod:`popsim.validation.statistics` read it):

* **sibship table** (Ebenstein 2010, Table 1): among women aged 21-40, by the sexes of their
  first k children on the household roster (:data:`~popsim.model.coords.COMPOSITIONS`), those
  with at least k + 1 there and those whose (k + 1)-th is a boy. The roster is what a census
  enumerator sees (:func:`roster`): the children ever born less the daughters living away. A
  daughter lives away when her birth was over quota and hidden from registration while her
  family had no living son: families trying again for a son gave such girls to relatives or to
  other families, or kept them out of the enumerator's sight (Johnson 2004; Shi & Kennedy 2016
  on the girls registered only years later). The census's question on births by order counts
  the births themselves (:func:`popsim.validation.statistics.census_srb`);
* **living children** by age group and sex (:data:`~popsim.model.coords.CHILD_GROUP_YEARS`);
* **women by children ever born** (0, 1, 2, 3+) and **by local fertility rule**.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .coords import CHILD_GROUP_YEARS, CHILDREN, COMPOSITIONS, REGIMES, SEXES, children_index

__all__ = ["MAX_CHILDREN", "CENSUS", "SIBSHIP_AGES", "GROUP_MONTHS", "Births", "bit",
           "store_children", "bury_children", "roster", "census"]

#: Children stored per woman (sex, birth month, alive).
MAX_CHILDREN = 8
#: Ages (completed years, [from, to)) of the women in the sibship table.
SIBSHIP_AGES = (21, 41)
#: Ages in months ``[from, to)`` of each group of :data:`~popsim.model.coords.CHILD_GROUP_YEARS`.
GROUP_MONTHS = np.array([(a * 12, b * 12) for a, b in CHILD_GROUP_YEARS.values()])

#: The census counts and their shapes after ``year``.
CENSUS = {"sibship_women": (len(COMPOSITIONS),), "sibship_another": (len(COMPOSITIONS),),
          "sibship_next_male": (len(COMPOSITIONS),),
          "living_children": (len(CHILD_GROUP_YEARS), len(SEXES)),
          "women_by_children": (len(CHILDREN),), "women_by_regime": (len(REGIMES),)}


@dataclass(frozen=True)
class Births:
    """The births of one month: the mothers (``idx``) and the facts before the birth that the
    recorder, the office and the incentives need."""

    idx: np.ndarray
    male: np.ndarray
    parity_before: np.ndarray
    #: living sons and daughters before the birth
    sons_before: np.ndarray
    daughters_before: np.ndarray
    #: provider row that sold the mother an illegal sex determination (-1 if none)
    provider: np.ndarray
    # the facts of the fertility policy (empty by default: a month without births)
    rural: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: the household's local fertility rule (index into coords.REGIMES)
    regime: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: the birth is above the local rule's limit; it is hidden from registration; the
    #: maintenance fee collected on it (yuan, 0 if none)
    overquota: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fee: np.ndarray = field(default_factory=lambda: np.zeros(0))


def store_children(child_male: np.ndarray, child_away: np.ndarray, child_born: np.ndarray,
                   idx: np.ndarray, parity_before: np.ndarray, male: np.ndarray,
                   away: np.ndarray, t: int) -> None:
    """Each birth of month ``t`` becomes its mother's next child (the first
    :data:`MAX_CHILDREN` are stored): its sex, whether it lives away, its birth month."""
    stored = parity_before < MAX_CHILDREN
    i, k = idx[stored], parity_before[stored].astype(np.uint8)
    child_male[i] |= male[stored].astype(np.uint8) << k
    child_away[i] |= away[stored].astype(np.uint8) << k
    child_born[i, k] = t


def bury_children(idx: np.ndarray, k: np.ndarray, child_male: np.ndarray,
                  child_dead: np.ndarray, sons: np.ndarray, daughters: np.ndarray) -> None:
    """Child ``k`` of each mother ``idx`` has died (a mother may appear more than once): its
    bit in ``child_dead``, one living son or daughter fewer (the numpy twin of
    :func:`popsim.model.kernels_monthly.bury_pass`)."""
    m = np.uint8(1) << k.astype(np.uint8)
    male = (child_male[idx] & m) > 0
    np.bitwise_or.at(child_dead, idx, m)
    np.subtract.at(sons, idx[male], 1)
    np.subtract.at(daughters, idx[~male], 1)


def bit(mask: np.ndarray, k) -> np.ndarray:
    """Bit ``k`` (scalar or array) of a ``uint8`` mask, as bool."""
    return ((mask >> np.asarray(k, dtype=np.uint8)) & 1).astype(bool)


def _sibship(parity: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, ...]:
    """Women, with another child, and with a boy next, in each composition row."""
    b = [bit(male, k) for k in range(4)]
    rows = [  # (first k children have this composition, k)
        (parity >= 1) & b[0], 1,
        (parity >= 1) & ~b[0], 1,
        (parity >= 2) & b[0] & b[1], 2,
        (parity >= 2) & (b[0] ^ b[1]), 2,
        (parity >= 2) & ~b[0] & ~b[1], 2,
        (parity >= 3) & ~b[0] & ~b[1] & ~b[2], 3,
    ]
    women, another, next_male = (np.zeros(len(COMPOSITIONS)) for _ in range(3))
    for i in range(len(COMPOSITIONS)):
        c, k = rows[2 * i], rows[2 * i + 1]
        more = c & (parity > k)
        women[i], another[i], next_male[i] = c.sum(), more.sum(), (more & b[k]).sum()
    return women, another, next_male


def roster(parity: np.ndarray, male: np.ndarray, away: np.ndarray) -> tuple[np.ndarray, ...]:
    """The children a census finds on each woman's household roster: how many (``parity`` less
    the children of ``away`` among her first :data:`MAX_CHILDREN`) and their sexes in birth order
    (a ``uint8`` bitmask, bit ``j``: the ``j``-th child at home is a boy)."""
    par = parity.astype(np.int64)
    n_home = par.copy()
    out = np.zeros_like(male)
    pos = np.zeros(male.shape, dtype=np.uint8)
    for k in range(MAX_CHILDREN):
        born, gone = par > k, bit(away, k)
        home = born & ~gone
        out |= (bit(male, k) & home).astype(np.uint8) << pos
        pos += home.astype(np.uint8)
        n_home -= born & gone
    return n_home, out


def census(t_end: int, birth_month: np.ndarray, parity: np.ndarray, male: np.ndarray,
           dead: np.ndarray, born: np.ndarray, regime: np.ndarray,
           away: np.ndarray) -> dict[str, np.ndarray]:
    """The census counts of one chunk of women present at month ``t_end`` (1 January):
    arrays of the women's birth months, parities, child bitmasks (boys, dead), children's birth
    months ``(n, MAX_CHILDREN)``, local rule indices and bitmasks of the children living away.
    Living children are counted wherever they live; the sibship table on the roster."""
    out = {}
    age = t_end - birth_month.astype(np.int64)
    sib = (age >= SIBSHIP_AGES[0] * 12) & (age < SIBSHIP_AGES[1] * 12)
    out["sibship_women"], out["sibship_another"], out["sibship_next_male"] = _sibship(
        *roster(parity[sib], male[sib], away[sib]))
    living = np.zeros(CENSUS["living_children"])
    for k in range(MAX_CHILDREN):
        if not (parity > k).any():
            break
        alive = (parity > k) & ~bit(dead, k)
        age_k = t_end - born[alive, k].astype(np.int64)
        sex = np.where(bit(male[alive], k), 0, 1)
        inside = (age_k[:, None] >= GROUP_MONTHS[:, 0]) & (age_k[:, None] < GROUP_MONTHS[:, 1])
        for s in (0, 1):
            living[:, s] += inside[sex == s].sum(axis=0)
    out["living_children"] = living
    out["women_by_children"] = np.bincount(children_index(parity.astype(np.int64)),
                                           minlength=len(CHILDREN)).astype(float)
    out["women_by_regime"] = np.bincount(regime, minlength=len(REGIMES)).astype(float)
    return out

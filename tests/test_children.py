"""Each woman's children: the bitmasks and the census roster of :mod:`popsim.model.children`."""

from __future__ import annotations

import numpy as np

from popsim.model.children import MAX_CHILDREN, bit, census, roster
from popsim.model.coords import COMPOSITIONS


def mask(*bits: int) -> int:
    return sum(1 << k for k in bits)


def test_bit_reads_one_child_of_each_mask():
    m = np.array([mask(0, 2), 0, mask(7)], dtype=np.uint8)
    assert bit(m, 0).tolist() == [True, False, False]
    assert bit(m, 2).tolist() == [True, False, False]
    assert bit(m, 7).tolist() == [False, False, True]


def test_roster_drops_the_children_living_away_and_keeps_the_order():
    # girl (away), girl, boy | girl, girl (away), girl (away), boy | boy, girl | ten children,
    # the first away: the two beyond the eighth are counted but not stored
    parity = np.array([3, 4, 2, 10], dtype=np.int8)
    male = np.array([mask(2), mask(3), mask(0), mask(1, 3)], dtype=np.uint8)
    away = np.array([mask(0), mask(1, 2), 0, mask(0)], dtype=np.uint8)
    n, sexes = roster(parity, male, away)
    assert n.tolist() == [2, 2, 2, 9]
    assert [int(x) for x in sexes] == [mask(1), mask(1), mask(0), mask(0, 2)]
    # nobody away: the roster is every child
    n, sexes = roster(parity, male, np.zeros(4, np.uint8))
    assert n.tolist() == parity.tolist() and sexes.tolist() == male.tolist()


def test_census_counts_a_daughter_away_among_the_living_but_not_in_the_sibship_table():
    t = 2000 * 12
    born = np.full((2, MAX_CHILDREN), t - 60, dtype=np.int16)  # children aged 5
    common = dict(t_end=t, birth_month=np.full(2, t - 30 * 12, np.int16),
                  parity=np.array([3, 3], np.int8), dead=np.zeros(2, np.uint8), born=born,
                  regime=np.zeros(2, np.int64))
    male = np.array([mask(2), mask(2)], np.uint8)  # girl, girl, boy
    at_home = census(male=male, away=np.zeros(2, np.uint8), **common)
    one_away = census(male=male, away=np.array([mask(1), 0], np.uint8), **common)
    two_girls, girl_and_boy = COMPOSITIONS.index("two girls"), COMPOSITIONS.index("girl and boy")
    assert at_home["sibship_women"][two_girls] == 2 and one_away["sibship_women"][two_girls] == 1
    assert one_away["sibship_another"][two_girls] == one_away["sibship_next_male"][two_girls] == 1
    # her older sister and her brother make the away girl's mother "girl and boy"
    assert one_away["sibship_women"][girl_and_boy] == 1
    assert at_home["sibship_women"][girl_and_boy] == 0
    np.testing.assert_array_equal(at_home["living_children"], one_away["living_children"])

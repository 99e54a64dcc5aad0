"""Every validation statistic on synthetic datasets whose answers are known by hand,
independent of the model (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from popsim.errors import InputError
from popsim.validation.statistics import STATISTICS, compute

YEARS = np.arange(1998, 2003)
COMPOSITIONS = ["one boy", "one girl", "two boys", "girl and boy", "two girls", "three girls"]


def synthetic() -> xr.Dataset:
    """Two replicates, 1998-2002, with counts chosen so that each statistic has a round answer."""
    R, Y = 2, YEARS.size
    births = np.zeros((R, Y, 3, 2))
    births[..., 0, :] = [106, 100]          # first births: SRB 106
    births[..., 1, :] = [150, 100]          # second births: SRB 150
    births[..., 2, :] = [160, 100]          # third+: SRB 160
    births[1, :, 1, :] = [130, 100]         # replicate 1 second births: SRB 130
    by_res = np.zeros((R, Y, 2, 3, 2))
    by_res[:, :, 0] = births / 2            # urban half
    by_res[:, :, 1] = births / 2
    by_res[:, :, 1, 1, :] = [146, 100]      # rural second births: SRB 146
    women = np.full((R, Y, len(COMPOSITIONS)), 1000.0)
    another = women * np.array([0.35, 0.49, 0.18, 0.16, 0.46, 0.50])
    male = another * np.array([0.50, 0.62, 0.39, 0.53, 0.70, 0.72])
    groups = ["0-4", "5-9", "10-14", "15-19", "kindergarten 3-5", "primary 6-11",
              "junior high 12-14", "senior high 15-17"]
    children = np.zeros((R, Y, len(groups), 2))
    children[..., :] = [120, 100]
    children[:, :, 4, :] = [149, 100]
    spend = np.zeros((R, Y, 3))
    buys = np.zeros((R, Y, 3))
    buys[...] = 10
    spend[..., 0] = 10 * 40                 # sex check 40 yuan
    spend[..., 1] = 10 * 3000               # late termination 3,000
    spend[..., 2] = 10 * 6000               # early test 6,000
    age = np.zeros((R, Y, 7))
    women_age = np.full((R, Y, 7), 1000.0)
    age[...] = 1000 * np.array([0.01, 0.10, 0.12, 0.06, 0.02, 0.005, 0.005])  # TFR 1.6
    wbc = np.zeros((R, Y, 4))
    wbc[...] = [50, 400, 400, 150]
    cases = np.zeros((R, Y, 3))
    cases[0, :, 0] = 4
    cases[1, :, 0] = 8                      # 4 and 8 cases a year: mean 6
    coords = {"replicate": [0, 1], "year": YEARS, "parity": ["1", "2", "3+"],
              "sex": ["male", "female"], "residence": ["urban", "rural"],
              "composition": COMPOSITIONS, "child_group": groups,
              "service": ["sex_check", "late_termination", "early_test"],
              "age_group": ["15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49"],
              "children": ["0", "1", "2", "3+"], "source": ["a", "b", "c"]}
    ry = ("replicate", "year")
    return xr.Dataset({
        "births": (ry + ("parity", "sex"), births),
        "reported_births": (ry + ("parity", "sex"), births * [1.0, 0.9]),
        "concealed_births": (ry + ("parity",), np.full((R, Y, 3), 2.0)),  # 2 girls an order
        "births_by_residence": (ry + ("residence", "parity", "sex"), by_res),
        "sibship_women": (ry + ("composition",), women),
        "sibship_another": (ry + ("composition",), another),
        "sibship_next_male": (ry + ("composition",), male),
        "living_children": (ry + ("child_group", "sex"), children),
        "illegal_spending": (ry + ("service",), spend),
        "illegal_purchases": (ry + ("service",), buys),
        "births_by_age": (ry + ("age_group",), age),
        "women_by_age": (ry + ("age_group",), women_age),
        "tfr": (ry, 5.0 * (age / women_age).sum(axis=-1)),  # as recording derives it: 1.6
        "women_by_children": (ry + ("children",), wbc),
        "cases": (ry + ("source",), cases),
        "fines": (ry, np.full((R, Y), 28000.0)),
        "followups": (ry, np.full((R, Y), 21.0)),
        "providers": (ry, np.full((R, Y), 206.0)),
    }, coords=coords)


DS = synthetic()


def test_srb_pools_counts_then_takes_the_ratio():
    v = compute("srb", DS, (2000, 2000), {"parity": "2"})
    assert v.pooled == pytest.approx(100 * 280 / 200)          # (150 + 130) / (100 + 100)
    np.testing.assert_allclose(v.per_replicate, [150.0, 130.0])
    total = compute("srb", DS, (1998, 2002))
    assert total.pooled == pytest.approx(100 * (106 + 160 + 140) / 300)


def test_srb_by_residence_maps_city_and_town_to_urban():
    rural = compute("srb_by_parity", DS, (2000, 2001), {"parity": "2", "residence": "rural"})
    assert rural.pooled == pytest.approx(146.0)
    city = compute("srb_by_parity", DS, (2000, 2000), {"parity": "2", "residence": "city"})
    town = compute("srb_by_parity", DS, (2000, 2000), {"parity": "2", "residence": "town"})
    assert city.pooled == town.pooled == pytest.approx(100 * (75 + 65) / 100)


def test_reported_srb():
    assert compute("reported_srb", DS, (1998, 2002), {"parity": "1"}).pooled == pytest.approx(
        100 * 106 / 90)


@pytest.mark.parametrize("comp, p, m", [("one boy", 0.35, 0.50), ("two girls", 0.46, 0.70),
                                        ("three girls", 0.50, 0.72)])
def test_sibship_statistics(comp, p, m):
    assert compute("p_another_child", DS, (2000, 2000), {"composition": comp}).pooled == \
        pytest.approx(p)
    assert compute("fraction_male_next", DS, (2000, 2000), {"composition": comp}).pooled == \
        pytest.approx(m)


def test_child_sex_ratio_price_tfr_and_shares():
    assert compute("child_sex_ratio", DS, (2000, 2000),
                   {"child_group": "kindergarten 3-5"}).pooled == pytest.approx(149)
    assert compute("illegal_price", DS, (2000, 2002), {"service": "sex_check"}).pooled == 40
    assert compute("illegal_price", DS, (2000, 2002), {"service": "package"}).pooled == 3040
    assert compute("tfr", DS, (1998, 2002)).pooled == pytest.approx(1.6)
    assert compute("women_share_by_children", DS, (2000, 2000),
                   {"children": "3+"}).pooled == pytest.approx(0.15)


def test_counts_are_yearly_means_over_replicates():
    v = compute("cases", DS, (2000, 2002))
    assert v.pooled == pytest.approx(6.0)
    np.testing.assert_allclose(v.per_replicate, [4.0, 8.0])
    assert compute("fines", DS, (2000, 2000)).pooled == 28000


def test_srb_change_and_decline():
    ds = DS.copy(deep=True)
    ds["births"].loc[dict(year=[2001, 2002], parity="1")] = [[[100, 100]] * 2] * 2
    ch = compute("srb_change", ds, (2001, 2002), {"before": "1998-1999"})
    before = 100 * (106 + 160 + 140) / 300
    after = 100 * (100 + 160 + 140) / 300
    assert ch.pooled == pytest.approx(after - before)
    d = compute("srb_decline_per_year", ds, (2001, 2002), {"before": "1998-1999"})
    assert d.pooled == pytest.approx((before - after) / 3.0)


def test_peak_births_ratio_takes_the_largest_year_over_the_mean_before():
    ds = DS.copy(deep=True)
    ds["births"].loc[dict(year=2001, replicate=ds.replicate[0])] *= 2  # 716 -> 1432 births
    v = compute("peak_births_ratio", ds, (2000, 2002), {"before": "1998-1999"})
    np.testing.assert_allclose(v.per_replicate, [2.0, 1.0])
    assert v.pooled == pytest.approx((1432 + 696) / (716 + 696))


def test_single_run_without_replicate_dimension():
    one = DS.isel(replicate=0, drop=True)
    v = compute("srb", one, (2000, 2000), {"parity": "2"})
    assert v.pooled == pytest.approx(150.0) and v.per_replicate.shape == (1,)


@pytest.mark.parametrize("name, years, subset, match", [
    ("srbb", (2000, 2000), {}, "did you mean 'srb'"),
    ("srb", (1990, 2000), {}, "not all recorded"),
    ("srb", (2000, 2000), {"parityy": "2"}, "no subset key 'parityy'"),
    ("p_another_child", (2000, 2000), {"composition": "two girl"}, "did you mean 'two girls'"),
    ("srb_by_parity", (2000, 2000), {"residence": "villages"}, "residence 'villages'"),
])
def test_bad_requests_are_input_errors(name, years, subset, match):
    with pytest.raises(InputError, match=match):
        compute(name, DS, years, subset)


def test_missing_variable_is_named():
    with pytest.raises(InputError, match="needs run variable"):
        compute("cases", DS.drop_vars("cases"), (2000, 2000))


def test_remaining_counts_and_coverage():
    assert compute("followups", DS, (2000, 2001)).pooled == 21
    assert compute("providers", DS, (2000, 2000)).pooled == 206
    v = compute("births", DS, (2000, 2000))
    np.testing.assert_allclose(v.per_replicate, [716.0, 696.0])
    tested = {"srb", "srb_by_parity", "reported_srb", "p_another_child", "fraction_male_next",
              "child_sex_ratio", "illegal_price", "tfr", "women_share_by_children", "cases",
              "fines", "srb_change", "srb_decline_per_year", "followups", "providers", "births",
              "peak_births_ratio", "census_srb"}
    assert set(STATISTICS) == tested, "a new statistic needs a known-answer test here"


def test_census_srb_counts_first_births_and_a_share_of_the_others():
    """China's counts: first births in full, higher orders at the share that makes the counted
    TFR the census's (1.22 in 2000, china_context.csv; the synthetic TFR is 1.6), and not the
    girls their families concealed (2 of each order's 100)."""
    v = compute("census_srb", DS, (2000, 2000))
    first_share = 206 / 716                                   # replicate 0
    c = (1.22 - 1.6 * first_share) / (1.6 * (1 - first_share))
    assert 0.6 < c < 0.7
    expected0 = 100 * (106 + c * (150 + 160)) / (98 + c * 196)
    np.testing.assert_allclose(v.per_replicate[0], expected0, rtol=1e-9)
    # below the true SRB (138.7 for replicate 0): the higher orders, more male, are under-counted
    assert v.per_replicate[0] < compute("srb", DS, (2000, 2000)).per_replicate[0] - 1.5
    # the under-count of higher orders does not depend on sex: one order's counted SRB is its
    # true one but for the concealed girls
    second = compute("census_srb", DS, (2000, 2000), {"parity": "2"})
    np.testing.assert_allclose(second.per_replicate, [15000 / 98, 13000 / 98])


def test_census_srb_is_the_true_srb_where_the_count_was_complete():
    """Where the run's TFR is at or below the counted one, or before the first count (1990),
    every birth is counted (here no girl is concealed)."""
    none = DS.assign(concealed_births=DS["concealed_births"] * 0)
    low = none.assign(births_by_age=DS["births_by_age"] * 0.5,   # TFR 0.8 < counted 1.44
                      tfr=DS["tfr"] * 0.5)
    np.testing.assert_allclose(compute("census_srb", low, (1998, 1998)).per_replicate,
                               compute("srb", low, (1998, 1998)).per_replicate)
    early = none.assign_coords(year=DS["year"] - 20)              # 1978-1982: before the counts
    np.testing.assert_allclose(compute("census_srb", early, (1980, 1981)).per_replicate,
                               compute("srb", early, (1980, 1981)).per_replicate)

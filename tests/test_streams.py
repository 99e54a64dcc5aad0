"""Named random streams: reproducible, independent, and per-household common random numbers."""

import numpy as np

from popsim.model.streams import Streams, replicate_seeds


def test_uniform_is_reproducible_and_in_unit_interval():
    a = Streams(42).uniform("x", 100, np.arange(100_000))
    b = Streams(42).uniform("x", 100, np.arange(100_000))
    assert np.array_equal(a, b)
    assert a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.005 and abs(a.var() - 1 / 12) < 0.002


def test_household_draws_do_not_depend_on_who_else_draws():
    s = Streams(7)
    everyone = s.uniform("seek", 5, np.arange(1000))
    some = np.array([3, 500, 999])
    assert np.array_equal(s.uniform("seek", 5, some), everyone[some])


def test_streams_months_and_seeds_are_independent():
    idx = np.arange(50_000)
    s = Streams(1)
    x, y = s.uniform("a", 0, idx), s.uniform("b", 0, idx)
    z, w = s.uniform("a", 1, idx), Streams(2).uniform("a", 0, idx)
    for other in (y, z, w):
        assert abs(np.corrcoef(x, other)[0, 1]) < 0.02


def test_generators_are_named_and_seeded():
    g1, g2 = Streams(3).generator("clinics"), Streams(3).generator("clinics")
    assert np.array_equal(g1.random(10), g2.random(10))
    assert not np.array_equal(Streams(3).generator("a").random(10),
                              Streams(3).generator("b").random(10))


def test_replicate_seeds():
    seeds = replicate_seeds(20001, 5)
    assert seeds == replicate_seeds(20001, 5) and len(set(seeds)) == 5
    assert replicate_seeds(20001, 3) == seeds[:3]
    assert all(0 <= s < 2**63 for s in seeds)


def test_borrowed_global_random_is_seeded_inside_and_restored_after():
    from popsim.model.streams import borrowed_global_random

    before = np.random.get_state()
    with borrowed_global_random(7):
        a = np.random.random(3)
    assert np.random.get_state()[1].tolist() == before[1].tolist()
    with borrowed_global_random(7):
        b = np.random.random(3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.RandomState(7).random_sample(3))
    with borrowed_global_random():  # no seed: the caller's stream, restored afterwards
        np.random.random(5)
    assert np.random.get_state()[1].tolist() == before[1].tolist()


def test_the_kept_keys_are_the_keys_of_every_month():
    """``Streams.key`` keeps the keys it was asked for (emptied as the store fills) and
    ``Streams.keys`` gives several at once: the same keys as a fresh computation."""
    from popsim.model.streams import _month_key

    s = Streams(7)
    for t in list(range(0, 1200, 7)) * 3 + [0, -5]:
        for name in ("seek", "fee", "desired"):
            expected = np.uint64(s._key(name) ^ _month_key(t))
            assert s.key(name, t) == expected and s.key(name, 0) == s.key(name, 0)
        both = s.keys(("seek", "fee"), t)
        assert both.dtype == np.uint64 and list(both) == [s.key("seek", t), s.key("fee", t)]
    assert len(s._month_keys) <= 1024

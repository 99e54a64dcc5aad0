"""Named random streams derived from one root seed.

Every stochastic decision in popsim draws from its own named stream, so switching a lever on does
not reshuffle the draws of any other decision: a scenario and its baseline run with the same seed
differ by the lever, not by noise (common random numbers).

Two kinds of stream:

* **Household draws** are counter-based: the uniform number for decision ``name`` of the
  household in slot ``i`` in month ``t`` is a hash of ``(root seed, name, t, i)`` (the SplitMix64
  finaliser; Steele, Lea & Flood 2014). It does not depend on which other households draw in that
  month, so a woman's fate in one scenario stays paired with her fate in another even when a lever
  changes who else is at that decision. This is the per-agent common-random-number idea of
  Starsim (Kerr et al. 2024) without drawing for every slot.
* **Generators** (``numpy.random.Generator``, PCG64) for draws that are not per household
  (clinic decisions, inspections, initial values), one per name, seeded from
  ``SeedSequence(root, spawn_key=(crc32(name),))``.

No global random state is used anywhere in the package: third-party code that can only draw from
NumPy's global generator (SALib's samplers and analyses, pyABC's proposals through scipy.stats)
runs inside :func:`borrowed_global_random`, which gives the caller's global state back.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from . import kernels

__all__ = ["Streams", "replicate_seeds", "borrowed_global_random"]


@contextlib.contextmanager
def borrowed_global_random(seed: int | None = None) -> Iterator[None]:
    """Lend NumPy's global generator to a library that draws from nothing else: for the block it
    is in the state of ``RandomState(seed)`` (when a seed is given: a reproducible draw), and
    afterwards it is back in the caller's state, so popsim never changes it."""
    state = np.random.get_state()
    try:
        if seed is not None:
            np.random.set_state(np.random.RandomState(seed).get_state())
        yield
    finally:
        np.random.set_state(state)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array, in place (wrap-around arithmetic is intended)."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


_MASK = 0xFFFFFFFFFFFFFFFF


def _mix_int(x: int) -> int:
    """The same finaliser on one Python integer (no numpy call overhead)."""
    x &= _MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@lru_cache(maxsize=1024)
def _month_key(t: int) -> int:
    """The hashed month of the household draws (a pure function: memoised for the kernels'
    many calls a month)."""
    return _mix_int(int(t) + 0x2545F4914F6CDD1D)


def replicate_seeds(root: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds for replicates, via ``SeedSequence(root).spawn(n)``.

    Replicate ``r`` of every scenario gets the same seed, so comparisons are paired.
    """
    return [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for s in np.random.SeedSequence(root).spawn(n)]


class Streams:
    """The named random streams of one run, all derived from ``seed``."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._root = _mix_int(self.seed ^ 0x5EED5EED5EED5EED)
        self._keys: dict[str, int] = {}
        self._generators: dict[str, np.random.Generator] = {}
        self._month_keys: dict[tuple, np.uint64 | np.ndarray] = {}  # see key
        kernels.refresh()  # a new run reads POPSIM_KERNELS (kernels.use_kernels)

    def _key(self, name: str) -> int:
        key = self._keys.get(name)
        if key is None:
            key = _mix_int(self._root ^ (zlib.crc32(name.encode()) * 0x100000001))
            self._keys[name] = key
        return key

    def key(self, name: str, t: int) -> np.uint64:
        """The hash key of stream ``name`` in month ``t`` (what the kernels take). Kept: the
        month's parts ask for the same keys many times (the store is emptied as it fills)."""
        k = self._month_keys.get((name, t))
        if k is None:
            if len(self._month_keys) >= 512:
                self._month_keys.clear()
            k = self._month_keys[name, t] = np.uint64(self._key(name) ^ _month_key(t))
        return k

    def keys(self, names: tuple[str, ...], t: int) -> np.ndarray:
        """The keys of several streams in month ``t`` as one uint64 array (kept like
        :meth:`key`'s: the caller must not write to it)."""
        k = self._month_keys.get((names, t))
        if k is None:
            k = np.array([self.key(n, t) for n in names], dtype=np.uint64)
            self._month_keys[names, t] = k
        return k

    def uniform(self, name: str, t: int, idx: np.ndarray) -> np.ndarray:
        """Uniform [0, 1) draws of stream ``name`` in month ``t`` for household slots ``idx``
        (:func:`popsim.model.kernels.hash_uniform`, or the numpy reference below)."""
        k = self.key(name, t)
        if kernels.use_kernels():
            return kernels.hash_uniform(k, idx)
        x = idx.astype(np.uint64)
        x *= _GOLDEN
        x += k
        x = _mix(x)
        x >>= np.uint64(11)
        u = x.astype(np.float64)
        u *= _TO_UNIT
        return u

    def generator(self, name: str) -> np.random.Generator:
        """The ``numpy.random.Generator`` of stream ``name`` (created once per run)."""
        g = self._generators.get(name)
        if g is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(name.encode()),))
            g = np.random.Generator(np.random.PCG64(ss))
            self._generators[name] = g
        return g

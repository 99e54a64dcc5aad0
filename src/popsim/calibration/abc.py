"""ABC-SMC with pyABC: a weighted population of parameter sets whose runs come close to the data.

pyABC (0.13) does the inference: priors, the perturbation kernels (its default multivariate
normal transition), the acceptance threshold (a :class:`pyabc.QuantileEpsilon`: generation 0
accepts every prior draw, each later one the half of the previous population's weighted
distances below the median), importance weights, and the run's history in SQLite
(``abc.sqlite`` in the output folder). ``--resume`` reloads it with ``ABCSMC.load`` and continues
after the last complete generation.

The runs do not go through pyABC's samplers but through :class:`ExecutorSampler`, a pyABC
:class:`~pyabc.sampler.Sampler` on popsim's executors (process pool or dask, through
:class:`~.evaluate.Evaluator`): pyABC's own parallel samplers accept particles in the order
they finish and draw their proposals from per-process random states, so the population depends
on timing and a resumed generation would propose new parameter sets instead of those already
run. This sampler makes generation ``t`` a pure function of the previous population and the
spec's seed:

1. candidate ``i`` of generation ``t`` seeds numpy's global generator (which pyABC draws from)
   with ``SeedSequence([seed, t, i])`` and runs pyABC's proposal up to the model call, which
   records the proposed parameters instead of running;
2. the batch of candidates is evaluated on the executor, every evaluation looked up in (and
   written to) the evaluation store as it finishes;
3. each candidate is replayed with the same seed, now with its statistics known: pyABC computes
   its distance, acceptance and importance weight;
4. the first ``population`` accepted candidates *in candidate order* form the generation;
   batches are sized from the counts of the generation so far (never from the worker count).

So a run killed mid-generation and resumed proposes the same candidates, finds the finished
ones in the store, and ends with the same population as an uninterrupted run. The global
generator's state is restored when the calibration returns.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..model.streams import borrowed_global_random
from .evaluate import Evaluator, distance, evaluation_key, evaluation_seeds, observed
from .spec import CalibrationSpec, FreeParameter

__all__ = ["run_abc", "AbcOutcome", "ABC_DB"]

ABC_DB = "abc.sqlite"
#: a generation proposes at most this many candidates per particle before it gives up
_MAX_BATCH_FACTOR = 4


class _Proposed(Exception):
    """Raised by the model in the proposal pass: the parameters pyABC proposed."""

    def __init__(self, params: dict[str, float]) -> None:
        super().__init__("proposal")
        self.params = params


class _Model:
    """pyABC's model: proposal pass -> raise the parameters; replay pass -> known statistics."""

    def __init__(self, spec: CalibrationSpec, names: list[str]) -> None:
        self.spec, self.names = spec, names
        self.known: dict[str, np.ndarray] = {}
        self.collect = True

    def params(self, parameter: Any) -> dict[str, float]:
        return {p.path: p.typed(float(parameter[n]))
                for p, n in zip(self.spec.parameters, self.names)}

    def point(self, params: dict[str, float]) -> tuple[dict[str, float], list[int]]:
        return params, evaluation_seeds(self.spec.seed, self.spec.replicates, params)

    def __call__(self, parameter: Any) -> dict[str, np.ndarray]:
        params = self.params(parameter)
        if self.collect:
            raise _Proposed(params)
        return {"s": self.known[evaluation_key(*self.point(params))]}


class _Distance:
    """pyABC's distance: the calibration distance of the simulated statistics."""

    def __init__(self, spec: CalibrationSpec) -> None:
        self.spec = spec

    def __call__(self, x: dict, x_0: dict) -> float:
        return distance(self.spec, x["s"])


def _candidate_seed(seed: int, t: int, i: int) -> int:
    return int(np.random.SeedSequence([int(seed) & (2**63 - 1), t + 1, i]).generate_state(1)[0])


def _make_sampler_class():
    import pyabc

    class ExecutorSampler(pyabc.sampler.Sampler):
        """A deterministic pyABC sampler on popsim's executors (see the module docstring)."""

        def __init__(self, model: _Model, evaluator: Evaluator, budget_left) -> None:
            super().__init__()
            self.model, self.evaluator, self.budget_left = model, evaluator, budget_left
            #: (generation, accepted, candidates) of a generation the budget stopped
            self.stopped: tuple[int, int, int] | None = None

        def _candidate(self, simulate_one, seed: int):
            # pyABC proposes through scipy.stats, i.e. NumPy's global generator
            with borrowed_global_random(seed):
                return simulate_one()

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            spec = self.model.spec
            budget = min(self.budget_left(), max_eval)
            particles, accepted, i = [], 0, 0
            while accepted < n and i < budget:
                rate = accepted / i if i else 1.0
                size = math.ceil((n - accepted) / max(rate, 0.05) * (1.1 if i else 1.0))
                size = int(min(size, _MAX_BATCH_FACTOR * n, budget - i))
                seeds = [_candidate_seed(spec.seed, t, i + k) for k in range(size)]
                self.model.collect = True
                points = []
                for s in seeds:  # pass 1: what pyABC proposes
                    try:
                        self._candidate(simulate_one, s)
                    except _Proposed as p:
                        points.append(self.model.point(p.params))
                    else:  # pragma: no cover - the model is always called
                        raise RuntimeError("pyABC proposed no parameters")
                stats = self.evaluator.evaluate_many(points)
                self.model.known = {evaluation_key(*pt): st for pt, st in zip(points, stats)}
                self.model.collect = False
                for s in seeds:  # pass 3: the same proposals, now evaluated
                    particle = self._candidate(simulate_one, s)
                    i += 1
                    particles.append(particle)
                    if particle.accepted:
                        accepted += 1
                        if accepted == n:
                            break
                self.model.known = {}
            sample = self._create_empty_sample()
            for particle in particles:
                sample.append(particle)
            self.nr_evaluations_ = i
            if sample.n_accepted < n:
                sample.ok = False
                self.stopped = (t, accepted, i)
            return sample

    return ExecutorSampler


def _prior(p: FreeParameter):
    import pyabc

    if p.prior == "uniform":
        return pyabc.RV("uniform", p.lo, p.hi - p.lo)
    if p.prior == "loguniform":
        return pyabc.RV("loguniform", p.lo, p.hi)
    a, b = (p.lo - p.mean) / p.sd, (p.hi - p.mean) / p.sd
    return pyabc.RV("truncnorm", a, b, loc=p.mean, scale=p.sd)


@contextlib.contextmanager
def _sandbox() -> Iterator[None]:
    """pyABC draws from numpy's and Python's global generators and logs at INFO: both are put
    back as they were."""
    import random
    import warnings

    pystate = random.getstate()
    loggers = [logging.getLogger(n) for n in ("ABC", "pyabc", "History", "Epsilon",
                                              "ABC.History", "ABC.Epsilon", "ABC.Sampler")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with borrowed_global_random(), warnings.catch_warnings():
            # pyABC compares the first threshold (inf) with the next: inf - inf
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            yield
    finally:
        random.setstate(pystate)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


class AbcOutcome:
    """The last complete generation and the per-generation diagnostics of an ABC-SMC run."""

    def __init__(self, values: np.ndarray, weights: np.ndarray, distances: np.ndarray,
                 simulated: np.ndarray, generations: dict[str, np.ndarray],
                 stopped: tuple[int, int, int] | None = None) -> None:
        self.values, self.weights, self.distances = values, weights, distances
        self.simulated, self.generations = simulated, generations
        #: (generation, accepted, candidates) of a generation the budget stopped, if any
        self.stopped = stopped


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(int(np.searchsorted(cum, 0.5)), x.size - 1)])


def run_abc(spec: CalibrationSpec, out: Path, evaluator: Evaluator, *, resume: bool,
            log=None) -> AbcOutcome:
    """Run (or continue) the ABC-SMC of ``spec`` with its history in ``out/abc.sqlite``."""
    import pyabc

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    names = [f"p{i}" for i in range(len(spec.parameters))]
    priors = pyabc.Distribution(**{n: _prior(p) for n, p in zip(names, spec.parameters)})
    model = _Model(spec, names)
    db = f"sqlite:///{(out / ABC_DB).resolve()}"
    holder: dict[str, Any] = {}

    def budget_left() -> float:
        return spec.evaluations - holder["abc"].history.total_nr_simulations

    sampler = _make_sampler_class()(model, evaluator, budget_left)

    def reopen(fresh: bool):
        # generation 0 accepts every prior draw (threshold inf); a later generation's threshold
        # is the weighted median of the previous population's distances, which QuantileEpsilon
        # computes from the history when its initial value is "from_sample" and t > 0
        abc = pyabc.ABCSMC(model, priors, _Distance(spec), population_size=spec.population,
                           eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample", alpha=0.5),
                           sampler=sampler)
        holder["abc"] = abc
        if fresh:
            abc.new(db, {"s": observed(spec)})
        else:
            abc.load(db, 1)
        if abc.history.max_t < 0:
            abc.eps = pyabc.QuantileEpsilon(initial_epsilon=np.inf, alpha=0.5)
        return abc

    with _sandbox():
        # One generation per ABCSMC object, each reloaded from the history: an uninterrupted
        # run then continues exactly as a resumed one does (the population's order, the
        # threshold and the kernels come from the SQLite history either way).
        abc = reopen(fresh=not (resume and (out / ABC_DB).exists()))
        first = True
        while True:
            done = abc.history.max_t + 1
            eps = abc.history.get_all_populations()
            last_eps = float(eps[eps["t"] == done - 1]["epsilon"].iloc[0]) if done else np.inf
            if done >= spec.generations or budget_left() <= 0 or last_eps <= spec.min_distance:
                break
            if first:
                log(f"popsim calibrate: ABC-SMC from generation {done} (at most "
                    f"{spec.generations} generations of {spec.population}, "
                    f"{spec.evaluations} evaluations)")
                first = False
            abc.run(max_nr_populations=1, max_total_nr_simulations=spec.evaluations)
            if abc.history.max_t + 1 == done:  # the budget ran out inside the generation
                t, acc, cand = sampler.stopped or (done, 0, 0)
                log(f"  generation {t} stopped by the budget: {acc} of the {spec.population} "
                    f"particles accepted in {cand} candidates ({100 * acc / max(cand, 1):.0f}%); "
                    f"the posterior is generation {t - 1}")
                break
            abc = reopen(fresh=False)
        history = abc.history
        if history.max_t < 0:
            raise RuntimeError("no complete generation")  # the budget is checked in the spec
        pop = history.get_population(t=history.max_t)
        particles = pop.particles
        values = np.array([[p.typed(float(pt.parameter[n])) for p, n in
                            zip(spec.parameters, names)] for pt in particles], dtype=float)
        weights = np.array([pt.weight for pt in particles], dtype=float)
        weights = weights / weights.sum()
        distances = np.array([pt.distance for pt in particles], dtype=float)
        simulated = np.array([np.asarray(pt.sum_stat["s"], dtype=float) for pt in particles])
        table = history.get_all_populations()
        table = table[table["t"] >= 0].sort_values("t")
        medians, bests = [], []
        for t in table["t"]:
            wd = history.get_weighted_distances(t=int(t))
            medians.append(_weighted_median(wd["distance"].to_numpy(), wd["w"].to_numpy()))
            bests.append(float(wd["distance"].min()))
        samples = table["samples"].to_numpy(dtype=float)
        gens = {"epsilon": table["epsilon"].to_numpy(dtype=float),
                "evaluations": samples,
                "accepted": table["particles"].to_numpy(dtype=float),
                "acceptance_rate": table["particles"].to_numpy(dtype=float) / samples,
                "median_distance": np.array(medians), "best_distance": np.array(bests)}
    for k, t in enumerate(table["t"]):
        log(f"  generation {int(t)}: epsilon {gens['epsilon'][k]:.3g}, accepted "
            f"{int(gens['accepted'][k])} of {int(samples[k])} "
            f"({100 * gens['acceptance_rate'][k]:.0f}%), median distance "
            f"{gens['median_distance'][k]:.3g}")
    return AbcOutcome(values, weights, distances, simulated, gens, sampler.stopped)

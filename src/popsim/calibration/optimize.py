"""A point fit with Optuna's TPE sampler (as Starsim and FPsim calibrate).

The study lives in Optuna's RDB storage, an SQLite file in the output folder (``optuna.sqlite``,
study named after the spec); ``--resume`` reopens it with ``load_if_exists``. Trials are
proposed in batches of ``budget.batch`` (a number of the spec, not of the machine, so that the
trials do not depend on the worker count), evaluated on popsim's executors, and told to the
study as each finishes. Every trial uses the same seeds (common random numbers: the optimiser
compares parameter sets under the same noise), and a batch's sampler is seeded from the spec's
seed and the number of trials before it, so that a resumed study proposes what an uninterrupted
one would have.

A trial that was running when the calibration was killed is, on resume, told its value if its
evaluation had finished (it is in the evaluation store) and otherwise marked failed and
proposed again with the same parameters (it had not finished, so nothing is repeated).

Priors: TPE draws within ``[min, max]`` (log-uniformly for ``loguniform``); a normal prior's
shape is not used by TPE, only its bounds (said in the report).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .evaluate import Evaluator, evaluation_key, evaluation_seeds
from .spec import CalibrationSpec

__all__ = ["run_optuna", "OptunaOutcome", "OPTUNA_DB"]

OPTUNA_DB = "optuna.sqlite"


class OptunaOutcome:
    """The best trial and every complete trial's distance, in trial order."""

    def __init__(self, values: np.ndarray, distance: float, simulated: np.ndarray,
                 trial_distances: np.ndarray, trial_values: np.ndarray) -> None:
        self.values, self.distance, self.simulated = values, distance, simulated
        self.trial_distances, self.trial_values = trial_distances, trial_values


def _distributions(spec: CalibrationSpec) -> dict:
    import optuna

    out = {}
    for p in spec.parameters:
        if p.kind == "int":
            out[p.path] = optuna.distributions.IntDistribution(int(np.ceil(p.lo)),
                                                               int(np.floor(p.hi)))
        else:
            out[p.path] = optuna.distributions.FloatDistribution(
                p.lo, p.hi, log=p.prior == "loguniform")
    return out


def _sampler(spec: CalibrationSpec, n_before: int):
    import optuna

    seed = int(np.random.SeedSequence([spec.seed & (2**63 - 1), 0x0B7, n_before])
               .generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(4, 2 * spec.batch))


def run_optuna(spec: CalibrationSpec, out: Path, evaluator: Evaluator, *, resume: bool,
               log=None) -> OptunaOutcome:
    """Run (or continue) the Optuna study of ``spec`` in ``out/optuna.sqlite``."""
    import optuna
    from optuna.trial import TrialState

    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / OPTUNA_DB).resolve()}"
    study = optuna.create_study(storage=storage, study_name=spec.name, direction="minimize",
                                load_if_exists=resume, sampler=_sampler(spec, 0))
    seeds = evaluation_seeds(spec.seed, spec.replicates)
    dists = _distributions(spec)

    def point(params: dict) -> tuple[dict[str, float], list[int]]:
        return {p.path: p.typed(params[p.path]) for p in spec.parameters}, seeds

    # trials left running by a killed calibration
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        stats = evaluator.store.get(evaluation_key(*point(trial.params)))
        if stats is not None:
            study.tell(trial.number, evaluator.distance(stats))
        else:
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params)

    def complete() -> int:
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

    start = complete()
    if start < spec.evaluations:
        log(f"popsim calibrate: Optuna TPE from trial {start} (of {spec.evaluations}, batches "
            f"of {spec.batch})")
    while (n := complete()) < spec.evaluations:
        study.sampler = _sampler(spec, n)
        trials = [study.ask(dists) for _ in range(min(spec.batch, spec.evaluations - n))]
        points = [point(t.params) for t in trials]

        def told(i: int, stats: np.ndarray) -> None:
            study.tell(trials[i], evaluator.distance(stats))

        evaluator.evaluate_many(points, told)
    done = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                  key=lambda t: t.number)
    best = min(done, key=lambda t: (t.value, t.number))
    best_point = point(best.params)
    simulated = evaluator.store.get(evaluation_key(*best_point))
    values = np.array([best_point[0][p.path] for p in spec.parameters], dtype=float)
    trial_values = np.array([[point(t.params)[0][p.path] for p in spec.parameters]
                             for t in done], dtype=float)
    trial_d = np.array([t.value for t in done], dtype=float)
    log(f"  {len(done)} trials; best distance {best.value:.3g} (trial {best.number})")
    return OptunaOutcome(values, float(best.value), simulated, trial_d, trial_values)

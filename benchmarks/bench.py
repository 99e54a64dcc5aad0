"""popsim benchmark: speed, memory and where the time goes, one JSON line per case.

Usage::

    python benchmarks/bench.py                      # every case (10M households take minutes)
    python benchmarks/bench.py --quick              # a smoke run in ~20 s (small sizes)
    python benchmarks/bench.py --cases county 1m    # some cases
    python benchmarks/bench.py --max-households 2000000   # skip larger cases

Cases: ``county`` (the default county, 65,669 households), ``100k``, ``1m`` and ``10m`` (the
``county`` levers with ``run.households`` set), ``fit`` (a linear fit of time against N over the
measured cases, ``numpy.polyfit``), ``reference`` (50k households: the plain one-Mesa-agent-per-
household reference of ``tests/reference_model.py`` against the vectorised model on the same
``baseline`` scenario, and the vectorised model on ``county``; the speed-up is measured in the same
run), ``kernels`` (the county's first run in a process whose numba cache is empty, then one with
the cache filled: what compiling the kernels costs once, and what loading them costs every
process), ``snapshot`` (a lever sweep of the county with a shared burn-in,
:func:`popsim.experiments.burnin.sweep_cost`: per-run CPU against a full run) and
``calibration`` (runs per hour of the ``china`` scenario at ``run.households = 200000`` with
``run.scale = 5``, i.e. 48 townships of the full region's size and a fifth of its providers and
office, each run with its own seed and behaviour coefficient as a calibration's evaluations are,
on 2 worker processes through :func:`popsim.experiments.executors.map_tasks`). Every run of a
model happens in a fresh Python subprocess, so that peak memory (``VmHWM``) belongs to that run
alone. ``--kernels numpy`` runs every case on the numpy reference path (``POPSIM_KERNELS``).

Definitions (every JSON line says which run it describes):

* ``months``: every simulated month, **the 35-year burn-in included** (``run.burn_in_years``);
  ``agent_months = households x months``.
* ``wall_s``: building the model + stepping to the end + building the dataset, i.e. the cost of
  ``popsim.run`` once its modules are imported (``import popsim`` imports them on first use;
  ``import_s`` is that import, Mesa, pandas, scipy and numba included, paid once per process and
  not counted in ``wall_s``; ``lazy_import_s`` what xarray imports at its first ``Variable``,
  dask among them when installed, ~0.2 s, also paid once per process and not counted).
  ``agent_months_per_s = agent_months / wall_s``;
  ``step_agent_months_per_s`` divides by the stepping time alone.
* ``cpu_s``: CPU time of the same span (``agent_months_per_cpu_s`` divides by it), and
  ``load_1min`` the load average when the run ended: on a shared machine a wall time well above
  the CPU time means the run waited for a core, and the CPU figures are what an idle machine
  would show (the model is single-threaded).
* ``rerun_wall_s`` and ``rerun_cpu_s`` (runs under 1M households): the same run again in the
  same process, after the first has loaded the compiled kernels and xarray's lazy imports: the
  cost of every run but the first of a sweep, a calibration or the app.
* ``peak_rss_mb``: the process's peak resident memory (``VmHWM``); ``baseline_rss_mb`` the
  resident memory of the same interpreter after ``import popsim`` and before the model is built;
  ``bytes_per_household = (peak - baseline) / households``.
* ``phase_share``: share of the stepping time spent in each phase, measured WITHOUT changing the
  model by wrapping the bound methods of one model instance with exclusive timers (time in a
  nested call is charged to the callee's phase): ``households`` = the ``Households`` methods and
  the model's phase methods of the household phases (``_year_values``, ``_norms``,
  ``_sex_determination``, ``_ultrasound``, ``_births``, ...: every ``_method`` of ``PopSimModel``
  but those in :data:`MODEL_PHASES`), with the functions of ``popsim.model.selection`` and
  ``popsim.model.incentives`` and the accountability draws they call; ``clinics`` = ``Market``
  methods and ``model._clinics``; ``enforcement`` = ``EnforcementOffice`` methods (``act``,
  ``recent_cases``, ``add_signals``), ``model._enforcement`` and ``model._accountability``;
  ``recording`` = ``Recorder`` methods and the model's recording phases (``_record``,
  ``_yearly_record``, ``_year_end_stocks``, with Mesa's ``datacollector``); ``other`` = the body
  of ``PopSimModel.step`` itself. The wrappers cost about
  a microsecond per call, so for runs under 10 s a second, instrumented run gives the shares and
  the first, plain run the times (``phase_run: "separate"``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = ("county", "100k", "1m", "10m", "fit", "reference", "kernels", "snapshot",
         "calibration")
SIZES = {"county": None, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
REFERENCE_HOUSEHOLDS = 50_000
#: The calibration case: the size a calibration of ``china`` runs at, its workers and runs.
CALIBRATION = {"households": 200_000, "scale": 5, "workers": 2, "runs": 4}
QUICK = {"max_households": 100_000, "reference_households": 5_000}  # and --repeat 1
#: Phase methods of the model that are not household phases (the rest are: see
#: ``household_helpers``), and the phase each is charged to.
MODEL_PHASES = {"_clinics": "clinics", "_enforcement": "enforcement",
                "_accountability": "enforcement", "_record": "recording",
                "_yearly_record": "recording", "_year_end_stocks": "recording"}


# ------------------------------------------------------------------------------------------------
# measurements inside a worker process


def _status_kb(field: str) -> int:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class PhaseTimer:
    """Exclusive wall time per phase, by wrapping bound methods of one model instance."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[str] = []
        self._last = 0.0
        self.calls = 0

    def _wrap(self, fn, phase: str):
        clock, stack, seconds = time.perf_counter, self._stack, self.seconds

        def timed(*args, **kwargs):
            now = clock()
            if stack:
                seconds[stack[-1]] = seconds.get(stack[-1], 0.0) + now - self._last
            stack.append(phase)
            self._last = now
            self.calls += 1
            try:
                return fn(*args, **kwargs)
            finally:
                now = clock()
                top = stack.pop()
                seconds[top] = seconds.get(top, 0.0) + now - self._last
                self._last = now

        return timed

    def wrap_methods(self, obj, phase: str, names=None) -> None:
        """Shadow ``obj``'s methods (those its class defines, or ``names``) with timed ones."""
        if names is None:
            names = [n for n, f in vars(type(obj)).items()
                     if inspect.isfunction(f) and not n.startswith("__")]
        for name in names:
            setattr(obj, name, self._wrap(getattr(obj, name), phase))

    def instrument(self, model) -> None:
        self.wrap_methods(model.households, "households")
        self.wrap_methods(model, "households", household_helpers(model))
        self.wrap_methods(model.market, "clinics")
        self.wrap_methods(model.office, "enforcement")
        self.wrap_methods(model.recorder, "recording")
        for name, phase in MODEL_PHASES.items():
            self.wrap_methods(model, phase, [name])
        # Mesa calls the user's step through model._user_step: its own body is "other"
        model._user_step = self._wrap(model._user_step, "other")


def household_helpers(model) -> list[str]:
    """The model's phase methods of the household phases: every ``_method`` its class defines
    (``_year_values``, ``_norms``, ``_sex_determination``, ``_births``, ...) but those in
    :data:`MODEL_PHASES`. Found by name so that the benchmark follows the model as it changes."""
    return [n for n, f in vars(type(model)).items()
            if inspect.isfunction(f) and n.startswith("_") and not n.startswith("__")
            and n not in MODEL_PHASES]


def _load(scenario: str, households: int | None, overrides: dict):
    import popsim

    ov = dict(overrides)
    if households is not None:
        ov["run.households"] = households
    return popsim.load_scenario(scenario, ov or None)


def _months(sc) -> int:
    r = sc.run
    return (r.end_year - (r.start_year - r.burn_in_years) + 1) * 12


def _vectorised(spec: dict) -> dict:
    import popsim

    baseline_kb = _status_kb("VmRSS")
    sc = _load(spec["scenario"], spec.get("households"), spec.get("overrides", {}))
    n, months = sc.run.households, _months(sc)
    c0, t0 = time.process_time(), time.perf_counter()
    model = popsim.PopSimModel(sc)
    t1 = time.perf_counter()
    separate = spec["phases"] == "separate"
    timer = PhaseTimer()
    if spec["phases"] == "same":
        timer.instrument(model)
    model.run_to_end()
    t2 = time.perf_counter()
    step_seconds = dict(timer.seconds)  # before the dataset is built (Recorder.to_dataset)
    ds = model.dataset()
    t3, c3 = time.perf_counter(), time.process_time()
    peak_kb = _status_kb("VmHWM")
    out = _figures(n, months, t3 - t0, c3 - c0, baseline_kb, peak_kb)
    out.update(init_s=round(t1 - t0, 3), run_s=round(t2 - t1, 3), dataset_s=round(t3 - t2, 3),
               step_agent_months_per_s=round(n * months / (t2 - t1)),
               ms_per_month=round(1e3 * (t2 - t1) / months, 3),
               srb_last_year=round(float(ds.srb.isel(year=-1)), 1))
    del ds, model
    if spec["phases"] == "separate":  # the same run again in this process: what a sweep pays
        c4, t4 = time.process_time(), time.perf_counter()
        again = popsim.PopSimModel(sc)
        again.run_to_end()
        again.dataset()
        out.update(rerun_wall_s=round(time.perf_counter() - t4, 3),
                   rerun_cpu_s=round(time.process_time() - c4, 3))
        del again
    if spec["phases"] == "none":
        out["phase_run"] = "none"
        return out
    if separate:  # shares from a second, instrumented run (its peak is not counted above)
        model = popsim.PopSimModel(sc)
        timer.instrument(model)
        t4 = time.perf_counter()
        model.run_to_end()
        out["instrumented_run_s"] = round(time.perf_counter() - t4, 3)
        step_seconds = timer.seconds
    out["phase_run"] = spec["phases"]
    total = sum(step_seconds.values())
    out["phase_share"] = {k: round(v / total, 4) for k, v in sorted(step_seconds.items())}
    out["phase_seconds"] = {k: round(v, 3) for k, v in sorted(step_seconds.items())}
    return out


def _reference(spec: dict) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from reference_model import ReferenceModel

    baseline_kb = _status_kb("VmRSS")
    sc = _load(spec["scenario"], spec.get("households"), spec.get("overrides", {}))
    n, months = sc.run.households, _months(sc)
    c0, t0 = time.process_time(), time.perf_counter()
    model = ReferenceModel(sc, sc.run.seed)
    t1 = time.perf_counter()
    model.run_to_end()
    t2 = time.perf_counter()
    model.summary()
    t3, c3 = time.perf_counter(), time.process_time()
    out = _figures(n, months, t3 - t0, c3 - c0, baseline_kb, _status_kb("VmHWM"))
    out.update(init_s=round(t1 - t0, 3), run_s=round(t2 - t1, 3),
               step_agent_months_per_s=round(n * months / (t2 - t1)))
    return out


def _figures(n: int, months: int, wall: float, cpu: float, baseline_kb: int,
             peak_kb: int) -> dict:
    return {"households": n, "months": months, "agent_months": n * months,
            "wall_s": round(wall, 3), "agent_months_per_s": round(n * months / wall),
            "cpu_s": round(cpu, 3), "agent_months_per_cpu_s": round(n * months / cpu),
            "load_1min": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "bytes_per_household": round((peak_kb - baseline_kb) * 1024 / n, 1)}


def _snapshot(spec: dict) -> dict:
    """A lever sweep's per-run cost with a shared burn-in against a full run (CPU seconds)."""
    try:
        from popsim.experiments.burnin import sweep_cost
    except ImportError as e:  # the shared burn-in is another module's; say so, do not fail
        return {"skipped": f"popsim.experiments.burnin.sweep_cost is not available: {e}"}
    res = sweep_cost(spec["scenario"], spec.get("seed", 1))
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}


def _calibration_task(task: tuple) -> float:
    """One calibration evaluation: a run of the scenario with its own seed and coefficient;
    returns the last year's SRB (the dataset stays in the worker)."""
    import popsim

    scenario, seed, overrides = task
    ds = popsim.run(popsim.load_scenario(scenario, overrides), seed=seed)
    return float(ds.srb.isel(year=-1))


def _calibration(spec: dict) -> dict:
    from popsim.experiments.executors import map_tasks

    c = CALIBRATION
    base = {"run.households": c["households"], "run.scale": c["scale"]}
    sc = _load(spec["scenario"], None, base)
    tasks = [(spec["scenario"], 100 + i,
              {**base, "behaviour.abort_intercept": sc.behaviour.abort_intercept + 0.05 * i})
             for i in range(c["runs"])]
    c0, t0 = time.process_time(), time.perf_counter()
    srb = dict(map_tasks(_calibration_task, tasks, workers=c["workers"]))
    wall = time.perf_counter() - t0
    months = _months(sc)
    return {"scenario": spec["scenario"], "households": c["households"], "scale": c["scale"],
            "townships": sc.population.townships // c["scale"], "months": months,
            "workers": c["workers"], "runs": len(tasks), "wall_s": round(wall, 3),
            "parent_cpu_s": round(time.process_time() - c0, 3),
            "s_per_run_per_worker": round(wall * c["workers"] / len(tasks), 3),
            "runs_per_hour": round(3600 * len(tasks) / wall),
            "agent_months_per_s": round(len(tasks) * c["households"] * months / wall),
            "load_1min": round(os.getloadavg()[0], 2),
            "srb_last_year": [round(srb[i], 1) for i in range(len(tasks))]}


def worker(spec: dict) -> None:
    import popsim  # noqa: F401  (the baseline RSS is that of an interpreter with popsim imported)

    t0 = time.perf_counter()
    import popsim.api  # noqa: F401  (the model's modules: Mesa, pandas, scipy, numba)
    import popsim.model.model  # noqa: F401

    imported = round(time.perf_counter() - t0, 3)
    # xarray imports its duck-array modules (dask, with jinja2 and cloudpickle, when installed,
    # as the sweep extra installs it) at its first Variable: an import, paid once per process,
    # whichever code builds the first one. Paid here, it is reported apart, not in a run.
    t0 = time.perf_counter()
    import numpy as np
    import xarray as xr

    xr.Variable(("x",), np.zeros(1))
    lazy = round(time.perf_counter() - t0, 3)
    kind = spec["kind"]
    out = {"reference": _reference, "snapshot": _snapshot,
           "calibration": _calibration}.get(kind, _vectorised)(spec)
    out.update(import_s=imported, lazy_import_s=lazy,
               kernels=os.environ.get("POPSIM_KERNELS", "numba"))
    print(json.dumps(out))


# ------------------------------------------------------------------------------------------------
# the driver


def run_worker(spec: dict, env_extra: dict | None = None) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON result."""
    env = dict(os.environ, PYTHONHASHSEED="0", **(env_extra or {}))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                           json.dumps(spec)], capture_output=True, text=True, env=env,
                          cwd=REPO, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {spec}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_best(spec: dict, repeat: int) -> dict:
    """The fastest of ``repeat`` runs (each in a fresh process), with every wall time listed:
    on a shared machine the minimum is the run least disturbed by other work."""
    runs = [run_worker(spec) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda r: r["wall_s"])
    if len(runs) > 1:
        best["wall_s_all"] = [r["wall_s"] for r in runs]
    return best


def machine() -> dict:
    import platform

    import numpy

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__, "load_1min": round(os.getloadavg()[0], 2)}


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def vectorised_case(name: str, households: int | None, repeat: int) -> dict:
    # Short runs get a separate instrumented run and are repeated; long ones (>= 1M
    # households) run once, instrumented directly: the wrappers' ~0.1 s is under 1% there.
    short = (households or 0) < 1_000_000
    res = run_best({"kind": "vectorised", "scenario": "county", "households": households,
                    "phases": "separate" if short else "same"}, repeat if short else 1)
    return {"case": name, "scenario": "county", **res}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES),
                    help="cases to run (default: all)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: cap households at {QUICK['max_households']:,} and run the "
                         f"reference comparison at {QUICK['reference_households']:,}")
    ap.add_argument("--max-households", type=int, default=None,
                    help="skip cases with more households than this")
    ap.add_argument("--reference-households", type=int, default=None,
                    help=f"households of the reference comparison (default "
                         f"{REFERENCE_HOUSEHOLDS:,})")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs of each case under 1M households (and of the vectorised side of "
                         "the reference comparison); the fastest is reported (default 3, "
                         "1 with --quick)")
    ap.add_argument("--kernels", choices=("numba", "numpy"), default=None,
                    help="run the compiled kernels (default) or the numpy reference path "
                         "(sets POPSIM_KERNELS for the measured processes)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.kernels:
        os.environ["POPSIM_KERNELS"] = args.kernels
    cap = args.max_households or (QUICK["max_households"] if args.quick else None)
    ref_n = args.reference_households or (QUICK["reference_households"] if args.quick
                                          else REFERENCE_HOUSEHOLDS)
    if ref_n < 100 or (cap is not None and cap < 100):
        ap.error("household counts must be at least 100 (the schema's lower bound)")
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if repeat < 1:
        ap.error("--repeat must be at least 1")
    emit({"case": "machine", **machine()})
    points = []
    for name in [c for c in CASES if c in args.cases]:
        if name in SIZES:
            n = SIZES[name]
            if cap is not None and n is not None and n > cap:
                emit({"case": name, "skipped": f"{n:,} households > cap {cap:,}"})
                continue
            res = vectorised_case(name, n, repeat)
            points.append((res["households"], res["wall_s"], res["run_s"], res["months"]))
            emit(res)
        elif name == "fit":
            emit(scaling_fit(points))
        elif name == "reference":
            emit(reference_case(ref_n, repeat))
        elif name == "kernels":
            emit(kernels_case())
        elif name == "snapshot":
            emit({"case": "snapshot", "scenario": "county",
                  **run_worker({"kind": "snapshot", "scenario": "county"})})
        elif name == "calibration":
            emit({"case": "calibration", **run_worker({"kind": "calibration",
                                                       "scenario": "china"})})
    return 0


def kernels_case() -> dict:
    """The county run in a process whose numba cache directory is empty (every kernel is
    compiled in the run), then in a second process reading that cache, then with the usual
    cache; each in a fresh process. The temporary cache is removed afterwards."""
    import tempfile

    spec = {"kind": "vectorised", "scenario": "county", "households": None,
            "phases": "none"}
    keep = ("wall_s", "cpu_s", "init_s", "run_s", "import_s")
    with tempfile.TemporaryDirectory(prefix="popsim-numba-") as cache:
        cold = run_worker(spec, {"NUMBA_CACHE_DIR": cache})
        warm = run_worker(spec, {"NUMBA_CACHE_DIR": cache})
    usual = run_worker(spec)
    return {"case": "kernels", "scenario": "county", "cold_cache": {k: cold[k] for k in keep},
            "warm_cache": {k: warm[k] for k in keep}, "usual_cache": {k: usual[k] for k in keep},
            "compile_s": round(cold["wall_s"] - warm["wall_s"], 3)}


def scaling_fit(points: list[tuple[int, float, float, int]]) -> dict:
    """Lines of time against households over the measured cases (``numpy.polyfit``).

    The sizes span three orders of magnitude, so the fits minimise relative residuals
    (weights ``1 / time``). ``wall`` (build + run + dataset) and ``step`` (stepping only) are
    fitted separately: the step intercept divided by the months is the fixed cost of a month
    whatever the size, the slope divided by the months the cost of one household-month. The
    log-log slope says how far from linear the cost is (1 = linear), and ``ns_per_agent_month``
    per point shows where it bends.
    """
    import numpy as np

    if len(points) < 2:
        return {"case": "fit", "skipped": "needs at least two measured sizes"}
    n, wall, run, months = (np.array(v, dtype=float) for v in zip(*points))
    if np.ptp(months) > 0:
        return {"case": "fit", "skipped": "the measured cases simulate different months"}
    months = months[0]
    slope, intercept = np.polyfit(n, wall, 1, w=1 / wall)
    s_slope, s_intercept = np.polyfit(n, run, 1, w=1 / run)
    pred = intercept + slope * n
    return {"case": "fit", "points": [[int(a), float(b)] for a, b in zip(n, wall)],
            "weights": "1/time (relative least squares)",
            "wall_slope_s_per_household": float(f"{slope:.4g}"),
            "wall_intercept_s": round(float(intercept), 3),
            "step_slope_s_per_household": float(f"{s_slope:.4g}"),
            "step_intercept_s": round(float(s_intercept), 3),
            "fixed_ms_per_month": round(1e3 * s_intercept / months, 3),
            "ns_per_agent_month": round(1e9 * s_slope / months, 2),
            "ns_per_agent_month_by_point": [round(1e9 * r / (a * months), 2)
                                            for a, r in zip(n, run)],
            "max_relative_residual": round(float(np.max(np.abs(pred - wall) / wall)), 3),
            "log_log_exponent": round(float(np.polyfit(np.log(n), np.log(wall), 1)[0]), 3)}


def reference_case(n: int, repeat: int) -> dict:
    """The reference and the vectorised model at ``n`` households, each in its own process.

    The reference runs once (it takes ~20 s at 50k households, so a disturbance is a small
    share of it); the vectorised runs take the fastest of ``repeat``.
    """
    ref = run_worker({"kind": "reference", "scenario": "baseline", "households": n})
    same = run_best({"kind": "vectorised", "scenario": "baseline", "households": n,
                     "phases": "separate"}, repeat)
    county = run_best({"kind": "vectorised", "scenario": "county", "households": n,
                       "phases": "separate"}, repeat)
    keep = ("wall_s", "cpu_s", "agent_months_per_s", "agent_months_per_cpu_s",
            "step_agent_months_per_s", "peak_rss_mb", "bytes_per_household")
    again = ("rerun_wall_s", "rerun_cpu_s")
    return {"case": "reference", "households": n, "months": ref["months"],
            "reference_baseline": {k: ref[k] for k in keep},
            "vectorised_baseline": {k: same[k] for k in keep + again},
            "vectorised_county": {k: county[k] for k in keep + again},
            "speedup": round(same["agent_months_per_s"] / ref["agent_months_per_s"], 1),
            "speedup_step_only": round(same["step_agent_months_per_s"]
                                       / ref["step_agent_months_per_s"], 1),
            "speedup_cpu": round(ref["cpu_s"] / same["cpu_s"], 1),
            # a second run in the vectorised process (kernels loaded): what every run of a
            # sweep but its first costs
            "speedup_cpu_rerun": round(ref["cpu_s"] / same["rerun_cpu_s"], 1),
            "speedup_county_vs_reference": round(county["agent_months_per_s"]
                                                 / ref["agent_months_per_s"], 1)}


if __name__ == "__main__":
    sys.exit(main())

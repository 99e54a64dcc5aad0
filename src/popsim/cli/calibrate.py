"""``popsim calibrate``: fit free parameters to observed data (the work is
:mod:`popsim.calibration`, the report :mod:`popsim.reports.calibration_report`).

Every check happens before the first run: the spec (scenarios, targets, parameters and priors,
budget), the worker count, the output folder (writable; it must not hold another calibration
unless ``--resume``), and the size of the budget (:func:`popsim.workload.check_workload`).
Nothing is written outside ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .common import add_yes_arg, check_file, check_folder, check_workers

__all__ = ["add_parser", "cmd_calibrate", "OUTPUT_FILES"]

#: the files written into the output folder (besides the methods' SQLite files and figures)
OUTPUT_FILES = ("posterior.nc", "calibration.md")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim calibrate`` (argparse only: the work is imported when it runs)."""
    p = sub.add_parser(
        "calibrate", help="fit parameters to observed data (ABC-SMC or Optuna); write a "
                          "posterior",
        description="Fit the free parameters of a calibration spec to its targets (the "
                    "validation targets of 'popsim score') with ABC-SMC (pyABC) or a TPE point "
                    "fit (Optuna). Every finished evaluation is written at once to "
                    "DIR/evaluations.sqlite and the method's history to DIR/abc.sqlite or "
                    "DIR/optuna.sqlite, so that a killed calibration continues with --resume "
                    "without repeating any. Writes DIR/posterior.nc (read by --ensemble), "
                    "DIR/calibration.md and its figures. A calibration that does not fit its "
                    "targets is reported as such (stderr, the report, the posterior's 'fit' "
                    "attribute); it exits 0 either way.")
    p.add_argument("spec", metavar="SPEC.toml", help="calibration spec file")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (created if needed)")
    p.add_argument("--resume", action="store_true",
                   help="continue the calibration already in DIR (same spec)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on dask.distributed: 'local' or tcp://host:port")
    add_yes_arg(p)
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..calibration.result import calibrate
    from ..calibration.spec import load_calibration_spec
    from ..errors import UsageError
    from ..experiments.executors import default_workers
    from ..workload import check_workload

    import importlib.util

    missing = [m for m in ("pyabc", "optuna") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"popsim calibrate needs {' and '.join(missing)}: install the "
                         f"'calibrate' extra (pip install 'popsim[calibrate]')")
    workers = check_workers(args.workers)
    if workers is not None and args.scheduler:
        raise UsageError("give --workers or --scheduler, not both")
    spec = load_calibration_spec(args.spec)
    out = Path(args.out)
    check_folder(out, "--out")
    for name in OUTPUT_FILES:
        check_file(out / name, "--out")
    from ..calibration.evaluate import STORE_NAME

    if not args.resume and (out / STORE_NAME).exists():
        raise UsageError(f"--out: {out} already holds a calibration ({STORE_NAME}); pass "
                         f"--resume to continue it, or choose another --out")
    if args.resume and not (out / STORE_NAME).exists():
        raise UsageError(f"--resume: {out} holds no calibration to continue ({STORE_NAME} is "
                         f"missing); start without --resume")
    check_workload(spec.workload(workers or default_workers()), yes=args.yes,
                   what=f"calibration '{spec.name}' ({spec.evaluations:,} evaluations)")
    names = ", ".join(spec.paths)
    print(f"popsim calibrate: {spec.name} ({spec.method}): {len(spec.parameters)} parameters "
          f"({names}); {len(spec.target_ids())} targets; scenario {spec.scenario_names()} x "
          f"{spec.replicates} replicate(s) per evaluation, "
          f"{max(f.base.run.households for f in spec.fits):,} households; at most "
          f"{spec.evaluations:,} evaluations", flush=True)
    start = time.perf_counter()
    ds, path = calibrate(spec, out, resume=args.resume, workers=workers,
                         scheduler=args.scheduler)
    elapsed = time.perf_counter() - start
    from ..calibration.result import verdict
    from ..reports.calibration_report import format_terminal, write_report

    report = write_report(ds, out, elapsed=elapsed)
    v = verdict(ds)
    if not v.fit:
        print(f"popsim calibrate: {v.text}", file=sys.stderr, flush=True)
    print(f"\n{format_terminal(ds)}")
    print(f"\nposterior: {path}\nreport:    {report}\n({elapsed:.0f} s)")
    return 0

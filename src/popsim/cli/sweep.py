"""The sweep sub-commands of ``popsim``: ``sweep``, ``export``, ``plot``, ``sensitivity``,
``robustness``.

::

    popsim sweep SPEC [--out results/NAME.zarr] [--workers N] [--scheduler ADDRESS|local]
                      [--resume | --overwrite] [--ensemble POSTERIOR [--draws K]] [--yes]
    popsim export SWEEP.zarr OUT.nc|OUT.csv [--format netcdf|csv] [--partial]
    popsim plot SWEEP.zarr [--outcome srb] [--select parity=2] [--year Y] [--x P] [--y P]
    popsim sensitivity SWEEP.zarr [--outcome srb] [--select parity=2] [--year Y] [--method M]
    popsim robustness SWEEP.zarr [--outcome srb] [--direction min|max | --target T]

``SPEC`` is a sweep TOML file or the name of an example in ``scenarios/sweeps/``. Bad input (a
spec error, a request too large without ``--yes``, a store made by another spec, a damaged store,
an unknown outcome) is one message and exit code 2. ``--resume`` continues an interrupted sweep
and repairs a damaged one; ``export``, ``plot`` and ``sensitivity`` verify every run first.
Heavy imports (zarr, dask, SALib) happen inside the commands so ``popsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UsageError
from .common import RESULTS_DIR, add_yes_arg, check_file, check_folder, check_workers
from .run import DEFAULT_ENSEMBLE_DRAWS

__all__ = ["add_parser", "SENSITIVITY_METHODS"]

#: the names of ``popsim.experiments.sensitivity_methods.METHODS``, spelt out so that building the
#: parser imports neither numpy nor xarray (tests/test_sensitivity.py checks they agree)
SENSITIVITY_METHODS = ["sobol", "morris", "fast", "rbd_fast", "regression", "delta", "pawn"]


def _single_threaded_blas() -> None:
    """Ask for single-threaded BLAS (unless the user chose otherwise) before numpy loads, in the
    commands that read a sweep: the analyses solve thousands of tiny systems (SALib's delta
    estimates densities with SciPy's KDE), for which BLAS threads cost more than they give
    (5.6 s -> 1.2 s for delta on a 576-run sweep, two busy cores). Never for runs of the model."""
    import os
    import sys

    if "numpy" not in sys.modules:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")


def _require_sweep_extra(*modules: str) -> None:
    """Refuse, with the install command, when the optional sweep dependencies are missing."""
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        raise UsageError(f"sweeps need their optional dependencies ({', '.join(missing)} "
                         f"missing): pip install 'popsim[sweep]'")


def _executor_text(workers: int | None, scheduler: str | None) -> str:
    from ..experiments.executors import default_workers, executor_name

    kind = executor_name(workers, scheduler)
    if kind == "serial":
        return "in this process"
    if kind == "processes":
        return f"on a process pool of {workers or default_workers()} workers"
    return "on a local dask cluster" if scheduler == "local" else f"on dask at {scheduler}"


def _check_reachable(address: str) -> None:
    """Fail in seconds, not after dask's 30 s connect timeout, when nothing listens there."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise UsageError(f"--scheduler {address}: expected tcp://host:port")
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except OSError as e:
        raise UsageError(f"cannot reach the dask scheduler at {address}: {e}") from None


def cmd_sweep(args: argparse.Namespace) -> int:
    _require_sweep_extra("zarr", "dask", "distributed")
    from ..experiments.sweep import run_sweep
    from ..experiments.sweep_spec import load_spec

    check_workers(args.workers)
    if args.scheduler and args.scheduler != "local" and "://" not in args.scheduler:
        raise UsageError(f"--scheduler takes 'local' or a dask address like tcp://host:8786, "
                         f"got '{args.scheduler}'")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    spec = load_spec(args.spec, ensemble=args.ensemble, draws=args.draws)
    out = Path(args.out) if args.out else Path(RESULTS_DIR) / f"{spec.name}.zarr"
    check_folder(out.parent, "--out" if args.out else "output")
    if args.scheduler and args.scheduler.startswith("tcp://"):
        _check_reachable(args.scheduler)
    try:
        result = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                           resume=args.resume, overwrite=args.overwrite,
                           progress=not args.no_progress, yes=args.yes)
    except OSError as e:
        if args.scheduler and args.scheduler != "local" and not out.exists():
            raise UsageError(f"cannot use the dask scheduler at {args.scheduler}: {e}") from None
        raise
    rate = result.ran / result.seconds if result.seconds > 0 else float("nan")
    repaired = f", {result.repaired} of them damaged" if result.repaired else ""
    print(f"sweep {spec.name}: {result.total} runs ({result.skipped} already complete, "
          f"{result.ran} run now{repaired}) in {result.seconds:.1f} s, {rate:.2f} runs/s "
          f"{_executor_text(args.workers, args.scheduler)}")
    if spec.posterior is not None:
        print(f"ensemble: {spec.posterior.describe()}; replicate r uses draw r and seed r")
    print(f"dataset: {out}")
    return 0


_EXPORT_SUFFIX = {"netcdf": ".nc", "csv": ".csv"}


def cmd_export(args: argparse.Namespace) -> int:
    _single_threaded_blas()
    _require_sweep_extra("zarr")
    from ..experiments.sweep import open_sweep
    from ..experiments.sweep_export import (dictionary_path, write_csv_export,
                                            write_netcdf_export)

    fmt = args.format or ("csv" if args.out.endswith(".csv") else "netcdf")
    if not args.out.endswith(_EXPORT_SUFFIX[fmt]):
        raise UsageError(f"a {fmt} export is a {_EXPORT_SUFFIX[fmt]} file: give OUT as a "
                         f"{_EXPORT_SUFFIX[fmt]} path, got '{args.out}'")
    check_file(args.out, "OUT")
    check_folder(Path(args.out).parent, "OUT")
    if fmt == "csv":
        check_file(dictionary_path(args.out), "OUT's data dictionary")
    with open_sweep(args.sweep, complete=not args.partial, load=True) as ds:
        ds = ds.load()
    if fmt == "netcdf":
        write_netcdf_export(ds, args.out, args.sweep)
        print(f"exported {args.sweep} -> {args.out}")
    else:
        table, dictionary, rows = write_csv_export(ds, args.out)
        print(f"exported {args.sweep} -> {table} ({rows:,} rows: one per run x year x variable "
              f"x element) and its data dictionary {dictionary}")
    return 0


def _png(store: str, out: str | None, *parts: str) -> Path:
    """``--out``, or a PNG beside the store named after it and ``parts``; checked writable."""
    if out:
        dest = Path(out)
    else:
        path = Path(store.rstrip("/"))
        dest = path.with_name("-".join([path.stem, *[p for p in parts if p]]) + ".png")
    check_file(dest, "--out")
    check_folder(dest.parent, "--out")
    return dest


def cmd_plot(args: argparse.Namespace) -> int:
    _single_threaded_blas()
    _require_sweep_extra("zarr")
    from ..experiments.sensitivity import parse_select
    from ..experiments.sweep import open_sweep
    from ..io import save_figure
    from ..reports.sweep_plot import sweep_figure

    with open_sweep(args.sweep) as ds:
        fig = sweep_figure(ds, variable=args.outcome, x=args.x, y=args.y,
                           select=parse_select(args.select), year=args.year)
    dest = _png(args.sweep, args.out, args.outcome)  # the outcome is a variable's name by now
    save_figure(fig, dest)
    print(f"figure: {dest}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    _single_threaded_blas()
    _require_sweep_extra("zarr", "SALib")
    from ..experiments.sensitivity import analyses, parse_select, report, sensitivity_figure
    from ..experiments.sweep import open_sweep
    from ..io import save_figure

    dest = None if args.no_plot else _png(args.sweep, args.out, "sensitivity", args.outcome)
    with open_sweep(args.sweep, load=True) as ds:
        results = analyses(ds, args.outcome, parse_select(args.select), args.year,
                           args.method or None)
    print(f"sensitivity of {args.sweep}: " + ", ".join(r.attrs["label"] for r in results))
    print(report(results))
    if dest is not None:
        save_figure(sensitivity_figure(results[0]), dest)
        print(f"\nfigure: {dest}")
    return 0


def cmd_robustness(args: argparse.Namespace) -> int:
    _single_threaded_blas()
    _require_sweep_extra("zarr")
    from ..experiments.robustness import robustness, robustness_table
    from ..experiments.sensitivity import parse_select
    from ..experiments.sweep import open_sweep
    from ..io import save_figure
    from ..reports.sweep_plot import robustness_figure

    dest = None if args.no_plot else _png(args.sweep, args.out, "robustness", args.outcome)
    with open_sweep(args.sweep, load=True) as ds:
        result = robustness(ds, args.outcome, args.direction, args.target,
                            parse_select(args.select), args.year)
    print(f"robustness of the lever packages of {args.sweep}")
    print(robustness_table(result))
    if dest is not None:
        save_figure(robustness_figure(result), dest)
        print(f"\nfigure: {dest}")
    return 0


def _add_outcome_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep", help="a sweep store (.zarr) written by 'popsim sweep'")
    p.add_argument("--outcome", default="srb",
                   help="variable to study (default: srb); one value per run")
    p.add_argument("--select", action="append", default=[], metavar="DIM=VALUE",
                   help="pin a dimension of the outcome, e.g. --select parity=2 (repeatable)")
    p.add_argument("--year", type=int, default=None,
                   help="year of a yearly sweep (default: the last)")
    p.add_argument("--out", default=None, help="PNG path (default: beside the sweep)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep``, ``export``, ``plot`` and ``sensitivity`` on the ``popsim`` parser."""
    p = sub.add_parser("sweep", help="run a parameter sweep into a zarr store (resumable)",
                       description="Run every run of a sweep spec (a TOML file or an example "
                                   "name from scenarios/sweeps/) into one zarr store, written "
                                   "as runs finish. Interrupted sweeps continue with --resume.")
    p.add_argument("spec", help="sweep spec: TOML path or example name")
    p.add_argument("--out", default=None, help=f"zarr store (default: {RESULTS_DIR}/<name>.zarr)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (1: in this process; default: all cores); with "
                        "--scheduler local, the LocalCluster's workers")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                   help="run on dask.distributed: an existing scheduler (tcp://host:port) or "
                        "'local' to start a LocalCluster")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep, or repair a damaged one (refused if the "
                        "spec changed)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing sweep store")
    p.add_argument("--ensemble", default=None, metavar="POSTERIOR",
                   help="posterior netCDF file (replaces the spec's 'ensemble'): replicate r at "
                        "every design point and package uses posterior draw r and seed r")
    p.add_argument("--draws", type=int, default=None, metavar="K",
                   help="posterior draws, one per replicate (replaces the spec's draws and "
                        f"replicates; default: the spec's, or {DEFAULT_ENSEMBLE_DRAWS})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_yes_arg(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("export", help="copy a sweep store to one netCDF file or a tidy CSV table",
                       description="Write a sweep store as one CF netCDF file (the default), or "
                                   "as a long CSV table (one row per run x year x variable x "
                                   "parity, sex, ...; with units) plus a data dictionary "
                                   "OUT_dictionary.csv, for R, Excel or BehaviorSpace-style "
                                   "analysis.")
    p.add_argument("sweep", help="sweep store (.zarr)")
    p.add_argument("out", help="file to write: .nc (netCDF) or .csv")
    p.add_argument("--format", choices=["netcdf", "csv"], default=None,
                   help="netcdf (default) or csv (default from OUT's suffix)")
    p.add_argument("--partial", action="store_true",
                   help="export an unfinished sweep (missing runs are NaN)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("plot", help="plot an outcome of a sweep over one or two parameters",
                       description="An outcome over one parameter (replicate mean and range), or "
                                   "a heatmap over two grid parameters.")
    _add_outcome_args(p)
    p.add_argument("--x", default=None, help="parameter on the x axis (default: the first)")
    p.add_argument("--y", default=None, help="second parameter: draw a heatmap")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("sensitivity", help="rank parameters by their effect on an outcome",
                       description="The design's own analysis (SALib: Sobol indices for sobol, "
                                   "Morris mu* for morris, eFAST for fast; regression and "
                                   "RBD-FAST for lhs; regression for grid), then the "
                                   "moment-independent delta and PAWN indices, which accept any "
                                   "design. Warns when indices are not converged or replicate "
                                   "noise is a large share of the variance. Prints the tables "
                                   "and writes a bar chart of the first.")
    _add_outcome_args(p)
    p.add_argument("--method", action="append", default=[], choices=SENSITIVITY_METHODS,
                   help="run only this analysis (repeatable; default: the design's own, delta "
                        "and pawn)")
    p.add_argument("--no-plot", action="store_true", help="only print the table")
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("robustness", help="how the ranking of lever packages holds up across "
                                          "contexts",
                       description="For a sweep with [packages] (lever packages x context "
                                   "samples, common random numbers): each package's regret "
                                   "(distance from the best package in each context sample) "
                                   "and the share of context samples in which it is best.")
    _add_outcome_args(p)
    p.add_argument("--direction", choices=["min", "max"], default="min",
                   help="min: lower is better (default); max: higher is better")
    p.add_argument("--target", type=float, default=None,
                   help="closest to this value is best, e.g. --target 106 for the SRB")
    p.add_argument("--no-plot", action="store_true", help="only print the table")
    p.set_defaults(func=cmd_robustness)

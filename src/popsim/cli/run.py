"""``popsim run``: one scenario, one run or replicates, a dataset, a table and a figure.

One run (the default) writes exactly the dataset :func:`popsim.run` returns. ``--replicates N``
runs N seeds, ``--ensemble POSTERIOR`` gives every replicate one posterior draw as well
(:mod:`popsim.experiments.ensemble`); both write the runs stacked along ``replicate``, print the
median and 90% interval per year and draw a band (:mod:`popsim.reports.run_report`). A single run
of a county-sized scenario says how large its sampling error is, and the table marks cells whose
births are too few to read. Everything (seed, counts, posterior, output paths, size) is checked
before the first run.
"""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .common import (RESULTS_DIR, add_scenario_args, add_yes_arg, check_file, check_folder,
                     check_inside, check_workers, overrides_json, overrides_tag)

if TYPE_CHECKING:
    from ..experiments.ensemble import Posterior
    from ..scenario.parameters import Scenario

__all__ = ["add_parser", "cmd_run", "replicate_count", "DEFAULT_ENSEMBLE_DRAWS"]

#: replicates of ``--ensemble`` when neither --draws nor --replicates is given:
#: ``popsim.experiments.ensemble.DEFAULT_DRAWS``, spelt out so that building the parser imports
#: no xarray (tests/test_cli.py checks they agree)
DEFAULT_ENSEMBLE_DRAWS = 10


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim run`` (argparse only: the work is imported when it runs)."""
    from ..workload import MAX_REPLICATES, MAX_WORKERS

    p = sub.add_parser(
        "run", help="run one scenario and write a dataset and a figure",
        description=f"Run one scenario; write {RESULTS_DIR}/<scenario>/<scenario>-seed<N>.nc "
                    f"and a PNG beside it. With --set the file name also carries a short hash "
                    f"of the overrides (<scenario>-seed<N>-set-<hash>.nc, the overrides in the "
                    f"dataset's 'overrides' and 'scenario_toml' attrs), so that it never "
                    f"replaces the plain run's output. With --replicates N or --ensemble the "
                    f"runs are stacked along a 'replicate' dimension (-r<N> or "
                    f"-ens-<digest>-r<N> in the name), the table gives the median and 90% "
                    f"interval per year and the figure a band. One run of a county-sized "
                    f"scenario prints its sampling error; cells with too few births to read "
                    f"are marked. The seed, the output path and the size of the run are "
                    f"checked before it starts.")
    add_scenario_args(p)
    p.add_argument("--seed", type=int, default=None,
                   help="root seed, 0 to 2**63-1 (default: run.seed)")
    p.add_argument("--replicates", type=int, default=None, metavar="N",
                   help=f"runs with independent seeds, 1 to {MAX_REPLICATES:,} (default 1; "
                        f"with --ensemble: --draws)")
    p.add_argument("--ensemble", default=None, metavar="POSTERIOR",
                   help="posterior netCDF file (popsim calibrate): replicate r uses posterior "
                        "draw r and seed r, so the interval includes parameter uncertainty")
    p.add_argument("--draws", type=int, default=None, metavar="K",
                   help=f"posterior draws, one per replicate (default: --replicates, or "
                        f"{DEFAULT_ENSEMBLE_DRAWS})")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"worker processes for replicates, 1 to {MAX_WORKERS} (default: all "
                        f"cores; 1 runs in this process)")
    p.add_argument("--out", default=None,
                   help=f"output .nc file, or folder (created if needed; default: "
                        f"{RESULTS_DIR}/<scenario>/)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    add_yes_arg(p)
    p.set_defaults(func=cmd_run)


def replicate_count(replicates: int | None, draws: int | None, ensemble: bool) -> int:
    """How many runs: ``--replicates`` (default 1); with an ensemble one per draw, ``--draws``
    and ``--replicates`` being the same number when both are given."""
    from ..workload import MAX_REPLICATES, check_count

    if replicates is not None:
        replicates = check_count("--replicates", replicates, hi=MAX_REPLICATES)
    if draws is not None:
        if not ensemble:
            raise UsageError("--draws needs --ensemble POSTERIOR (the posterior to draw from)")
        draws = check_count("--draws", draws, hi=MAX_REPLICATES)
    if not ensemble:
        return replicates or 1
    if replicates is not None and draws is not None and replicates != draws:
        raise UsageError(f"--draws {draws} and --replicates {replicates} differ: each replicate "
                         f"uses one posterior draw; give one of them")
    return draws or replicates or DEFAULT_ENSEMBLE_DRAWS


def _output_paths(out: str | None, scenario: Scenario, seed: int, overrides: list[str],
                  plot: bool, suffix: str = "") -> tuple[Path, Path]:
    """The dataset and figure paths of ``popsim run``, checked before the run starts.

    Default ``results/<name>/<name>-seed<N>[-set-<hash>][<suffix>].nc`` (``suffix``: ``-r<N>``
    for replicates, ``-ens-<digest>-r<N>`` for an ensemble); ``--out X.nc`` is that file,
    ``--out DIR`` that folder. The folder is created and must be writable; the output must stay
    inside ``results/`` or the ``--out`` folder (the scenario's name is a safe path component,
    checked at load); an existing path of the wrong kind is refused.
    """
    name = scenario.name
    stem = f"{name}-seed{seed}{overrides_tag(scenario, overrides)}{suffix}"
    if out is None:
        root, nc, what = Path(RESULTS_DIR), Path(RESULTS_DIR) / name / f"{stem}.nc", "output"
    elif out.endswith(".nc"):
        nc, what = Path(out), "--out"
        root = nc.parent
    else:
        root, what = Path(out), "--out"
        nc = root / f"{stem}.nc"
    check_folder(nc.parent, what)
    check_inside(nc, root, what)
    png = nc.with_suffix(".png")
    for path in (nc, png) if plot else (nc,):
        check_file(path, what)
    return nc, png


def _posterior(path: str | None, overrides: dict) -> Posterior | None:
    if path is None:
        return None
    from ..experiments.ensemble import read_posterior

    posterior = read_posterior(path)
    clash = [p for p in posterior.parameters if p in overrides]
    if clash:
        raise UsageError(f"--set {clash[0]} conflicts with --ensemble {path}: the posterior "
                         f"draws {clash[0]} for every replicate")
    return posterior


def cmd_run(args: argparse.Namespace) -> int:
    from ..scenario.loader import check_seed, load_scenario, parse_overrides
    from ..workload import check_workload, estimate, run_months

    seed = None if args.seed is None else check_seed(args.seed, "--seed")
    n = replicate_count(args.replicates, args.draws, args.ensemble is not None)
    workers = check_workers(args.workers)
    scenario = load_scenario(args.scenario, args.overrides)
    parsed = parse_overrides(args.overrides)
    posterior = _posterior(args.ensemble, parsed)
    seed = scenario.run.seed if seed is None else seed
    r = scenario.run
    from ..experiments.executors import default_workers

    parallel = 1 if n == 1 else min(n, workers or default_workers())  # processes at once
    check_workload(estimate(n, r.households, run_months(r.start_year, r.end_year,
                                                        r.burn_in_years), workers=parallel),
                   yes=args.yes, what=f"this run of '{scenario.name}'")
    stacked = n > 1 or posterior is not None
    suffix = "" if not stacked else f"-r{n}" if posterior is None else \
        f"-ens-{posterior.digest[:8]}-r{n}"
    nc, png = _output_paths(args.out, scenario, seed, args.overrides, plot=not args.no_plot,
                            suffix=suffix)

    from ..io import write_netcdf
    from ..reports.run_report import run_table, sampling_note, save_run_figure

    start = time.perf_counter()
    if stacked:
        from ..experiments.ensemble import run_replicates

        ds = run_replicates(scenario, n, seed, posterior, workers=workers, progress=True)
    else:
        from ..api import run

        ds = run(scenario, seed)
    elapsed = time.perf_counter() - start
    if parsed:
        ds.attrs["overrides"] = overrides_json(scenario, parsed)
    write_netcdf(ds, nc)
    if not args.no_plot:
        save_run_figure(ds, png)
    runs = f"seed {seed}" if not stacked else f"{n} replicates of root seed {seed}" + (
        f", ensemble {Path(args.ensemble).name}" if posterior is not None else "")
    print(f"popsim {scenario.name}: {r.households:,} households, "
          f"{int(ds.year[0])}-{int(ds.year[-1])}, {runs} ({elapsed:.1f} s)")
    note = sampling_note(ds)
    if note:
        print("\n" + textwrap.fill(note, width=96) + "\n")
    print(run_table(ds))
    print(f"\ndataset: {nc}")
    if not args.no_plot:
        print(f"figure:  {png}")
    return 0

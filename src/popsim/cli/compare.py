"""``popsim compare``: packages of measures side by side (the command; the runs are
:mod:`popsim.experiments.compare`, the table and figure :mod:`popsim.reports.compare_report`).

Every check happens before the first run: the seed, replicates and workers within bounds, every
scenario loaded and sharing the baseline's context, the size of the request
(:func:`popsim.workload.check_workload`), and the output folder writable and inside ``--out`` or
``results/compare/``.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from ..errors import UsageError
from .common import (RESULTS_DIR, add_scenario_args, add_yes_arg, check_file, check_folder,
                     check_inside, check_workers)

__all__ = ["add_parser", "cmd_compare", "default_out_dir", "OUTPUT_FILES"]

#: the files written into the output folder
OUTPUT_FILES = ("compare.nc", "compare.md", "compare.csv", "compare_dictionary.csv",
                "compare.png")


def default_out_dir(names: list[str]) -> Path:
    """``results/compare/<names joined by '-'>``, shortened with a hash when very long (names
    are safe path components, checked at load)."""
    joined = "-".join(names)
    if len(joined) > 80:
        joined = joined[:60].rstrip("-_.") + "-" + hashlib.sha1(joined.encode()).hexdigest()[:8]
    return Path(RESULTS_DIR) / "compare" / joined


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim compare`` (argparse only: the work is imported when it runs)."""
    from ..workload import DEFAULT_REPLICATES, MAX_REPLICATES, MAX_WORKERS

    p = sub.add_parser(
        "compare", help="compare scenarios side by side: SRB, missing girls averted, cost",
        description="Run every scenario R times with common random numbers (replicate r of "
                    "every scenario uses the same seed) and compare them with the baseline: "
                    "end-year SRB (total, by birth order, reported), missing female births "
                    "averted (paired 90% intervals), cost and cost per averted birth, cases and "
                    "women investigated or grey-listed per case. The baseline is the first "
                    "scenario with every measure off (named <first>_no_measures; a listed "
                    "scenario with exactly those values is used instead), or --baseline; every "
                    "scenario must share its context (population, fertility, son preference, "
                    "technology, behaviour, market and run settings but the seed), otherwise "
                    "the command refuses and lists the differing fields. The incremental "
                    "cost-effectiveness table orders the packages by cost and gives each one's "
                    "extra girls averted and cost per extra girl against the previous package "
                    "on the efficient frontier (dominated packages marked). Costs count "
                    "incentives committed as a present value of future benefits, not this "
                    "year's budget. With --ensemble, replicate r of every scenario uses seed r "
                    "and posterior draw r: the intervals then combine seed noise and parameter "
                    "uncertainty. Writes DIR/compare.nc, compare.md, compare.csv (its units and "
                    "meanings in compare_dictionary.csv) and compare.png.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="embedded scenario names or TOML paths ('popsim scenarios' lists them)")
    p.add_argument("--replicates", type=int, default=None, metavar="R",
                   help=f"runs per scenario, 1 to {MAX_REPLICATES:,} (default "
                        f"{DEFAULT_REPLICATES}, or --draws with --ensemble)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="root seed of the replicates, 0 to 2**63-1 (default: the baseline's "
                        "run.seed)")
    p.add_argument("--baseline", default=None, metavar="NAME",
                   help="scenario effects are measured against; must share the first "
                        "scenario's context (default: the first scenario with every measure "
                        "off)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"output folder, created if needed (default "
                        f"{RESULTS_DIR}/compare/<scenario names>/)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"worker processes, 1 to {MAX_WORKERS} (default: all cores; 1 runs in "
                        f"this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on dask.distributed: 'local' or tcp://host:port")
    p.add_argument("--ensemble", default=None, metavar="POSTERIOR",
                   help="a posterior netCDF file (popsim calibrate): replicate r of every "
                        "scenario uses seed r and posterior draw r (paired), so intervals "
                        "include parameter uncertainty")
    p.add_argument("--draws", type=int, default=None, metavar="K",
                   help="posterior draws with --ensemble, one per replicate (default: "
                        "--replicates; if both are given they must be equal)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_yes_arg(p)
    add_scenario_args(p, positional=False)
    p.set_defaults(func=cmd_compare)


def _out_dir(out: str | None, names: list[str]) -> Path:
    """The output folder, created and checked (writable, inside its root, files not folders)."""
    if out is None:
        folder, root, what = default_out_dir(names), Path(RESULTS_DIR), "output"
    else:
        folder = root = Path(out)
        what = "--out"
    check_folder(folder, what)
    check_inside(folder, root, what)
    for name in OUTPUT_FILES:
        check_file(folder / name, what)
    return folder


def cmd_compare(args: argparse.Namespace) -> int:
    from ..scenario.loader import check_seed
    from ..workload import DEFAULT_REPLICATES

    seed = None if args.seed is None else check_seed(args.seed, "--seed")
    if args.replicates is not None and args.replicates < 1:
        raise UsageError(f"--replicates must be at least 1, got {args.replicates}")
    if args.draws is not None and args.ensemble is None:
        raise UsageError("--draws needs --ensemble POSTERIOR: the draws are taken from it")
    replicates = args.replicates
    if replicates is None:
        replicates = args.draws if args.draws is not None else DEFAULT_REPLICATES
    workers = check_workers(args.workers)
    from ..experiments.compare import plan_comparison, planner_table, run_plan
    from ..experiments.executors import default_workers, executor_name
    from ..reports.compare_report import format_terminal, write_outputs

    # every scenario is loaded and checked, and the request sized, before the first run starts
    plan = plan_comparison(args.scenarios, replicates, seed, args.baseline, args.overrides,
                           workers=workers, scheduler=args.scheduler, yes=args.yes,
                           ensemble=args.ensemble, draws=args.draws)
    names = [s.name for s in plan.scenarios]
    out_dir = _out_dir(args.out, names)
    r = plan.scenarios[0].run
    n_runs = len(names) * replicates
    kind = executor_name(workers, args.scheduler)
    where = {"serial": "in this process",
             "processes": f"{workers or default_workers()} worker processes",
             "dask": f"dask ({args.scheduler})"}[kind]
    drawn = ("" if plan.posterior is None else
             f"; replicate r uses seed r and posterior draw r of {plan.posterior.describe()}")
    print(f"popsim compare: {len(names)} scenarios x {replicates} replicates = "
          f"{n_runs} runs; {r.households:,} households, {r.start_year}-{r.end_year}; {where}; "
          f"baseline '{names[0]}' ({plan.baseline_origin}){drawn}", flush=True)
    start = time.perf_counter()
    ds = run_plan(plan, workers=workers, scheduler=args.scheduler,
                  progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    paths = write_outputs(ds, out_dir)
    print(f"{n_runs} runs in {elapsed:.1f} s\n")
    print(format_terminal(planner_table(ds)))
    print()
    for key, label in (("nc", "dataset"), ("md", "table"), ("csv", "table"),
                       ("dictionary", "columns"), ("png", "figure")):
        print(f"{label + ':':<9}{paths[key]}")
    return 0

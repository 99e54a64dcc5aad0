"""``popsim compare``: packages of measures side by side (the command; the runs are
:mod:`popsim.experiments.compare`, the table and figure :mod:`popsim.reports.compare_report`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import UsageError
from ..reports.compare_report import default_out_dir, format_terminal, write_outputs
from .common import add_scenario_args

__all__ = ["add_parser", "cmd_compare"]


# ------------------------------------------------------------------------------------------------
# the command


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim compare``."""
    from ..experiments.compare import DEFAULT_BASELINE, DEFAULT_REPLICATES

    p = sub.add_parser(
        "compare", help="compare scenarios side by side: SRB, missing girls averted, cost",
        description="Run every scenario R times with common random numbers (replicate r of "
                    "every scenario uses the same seed) and compare them with the baseline: "
                    "end-year SRB (total, by birth order, reported), missing female births "
                    "averted (paired 90% intervals), cost and cost per averted birth, cases and "
                    "women investigated or grey-listed per case. Writes DIR/compare.nc, "
                    "compare.md, compare.csv and compare.png.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="embedded scenario names or TOML paths ('popsim scenarios' lists them)")
    p.add_argument("--replicates", type=int, default=DEFAULT_REPLICATES, metavar="R",
                   help=f"runs per scenario (default {DEFAULT_REPLICATES})")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="root seed of the replicates (default: the baseline's run.seed)")
    p.add_argument("--baseline", default=DEFAULT_BASELINE, metavar="NAME",
                   help=f"scenario effects are measured against; added if not listed "
                        f"(default {DEFAULT_BASELINE})")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default results/compare/<scenario names>/)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on dask.distributed: 'local' or tcp://host:port")
    add_scenario_args(p, positional=False)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiments.compare import compare, load_comparison, planner_table
    from ..experiments.executors import default_workers, executor_name

    if args.replicates < 1:
        raise UsageError(f"--replicates must be at least 1, got {args.replicates}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    # every scenario is loaded and checked before the first run starts
    scenarios = load_comparison(args.scenarios, args.baseline, args.overrides)
    names = [s.name for s in scenarios]
    out_dir = Path(args.out) if args.out else default_out_dir(names)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; give a folder")
    r = scenarios[0].run
    n_runs = len(scenarios) * args.replicates
    kind = executor_name(args.workers, args.scheduler)
    where = {"serial": "in this process",
             "processes": f"{args.workers or default_workers()} worker processes",
             "dask": f"dask ({args.scheduler})"}[kind]
    print(f"popsim compare: {len(scenarios)} scenarios x {args.replicates} replicates = "
          f"{n_runs} runs; {r.households:,} households, {r.start_year}-{r.end_year}; {where}",
          flush=True)
    start = time.perf_counter()
    ds = compare(args.scenarios, args.replicates, args.seed, args.baseline, args.overrides,
                 workers=args.workers, scheduler=args.scheduler, progress=True)
    elapsed = time.perf_counter() - start
    paths = write_outputs(ds, out_dir)
    print(f"{n_runs} runs in {elapsed:.1f} s\n")
    print(format_terminal(planner_table(ds)))
    print()
    for key, label in (("nc", "dataset"), ("md", "table"), ("csv", "table"), ("png", "figure")):
        print(f"{label + ':':<9}{paths[key]}")
    return 0

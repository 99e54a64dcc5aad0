"""``popsim score``: run a history scenario's replicates and score them against observations
(the work is :mod:`popsim.validation.score`, the table and figures
:mod:`popsim.reports.score_report`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import UsageError
from .common import (RESULTS_DIR, add_scenario_args, add_yes_arg, check_file, check_folder,
                     check_inside, check_workers)

__all__ = ["add_parser", "cmd_score"]

#: the most replicates one score may ask for (a typo guard; the workload check comes after)
MAX_REPLICATES = 10_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``popsim score``."""
    p = sub.add_parser(
        "score", help="score a scenario against observed data (SRB, birth order, sibship, ...)",
        description="Run a scenario's replicates and compute every target of its target file "
                    "(the SRB series, SRB by birth order and residence, the census sibship "
                    "table, prices, fertility, ...): the model's value and 90%% interval against "
                    "the observation and its band, the error, pass or miss. Writes DIR/score.csv, "
                    "score.md, score.nc, runs.nc and one PNG per group of targets. Exits 0 "
                    "whatever the fit unless --fail-outside is given.")
    add_scenario_args(p)
    p.add_argument("--targets", default=None, metavar="FILE",
                   help="target file (default: the embedded one named after the scenario)")
    p.add_argument("--replicates", type=int, default=None, metavar="R",
                   help="runs (default: the target file's 'replicates')")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="root seed of the replicates (default: the scenario's run.seed)")
    p.add_argument("--ensemble", default=None, metavar="POSTERIOR",
                   help="a posterior file, or a shipped one by name ('china'): replicate r "
                        "uses seed r and posterior draw r, so the model's interval holds the "
                        "parameters' uncertainty as well as seed noise")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"output folder (default {RESULTS_DIR}/score/<scenario>/)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on dask.distributed: 'local' or tcp://host:port")
    p.add_argument("--fail-outside", action="store_true",
                   help="exit 1 if any target is outside its tolerance (for CI)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_yes_arg(p)
    p.set_defaults(func=cmd_score)


def cmd_score(args: argparse.Namespace) -> int:
    from ..reports.score_report import format_terminal, write_outputs
    from ..scenario.loader import load_scenario
    from ..validation.score import run_replicates, score_runs
    from ..validation.targets import load_targets
    from ..experiments.executors import default_workers
    from ..scenario.loader import check_seed, parse_overrides
    from ..workload import check_workload, estimate

    if args.replicates is not None and not 1 <= args.replicates <= MAX_REPLICATES:
        raise UsageError(f"--replicates must be 1 to {MAX_REPLICATES:,}, got {args.replicates}")
    workers = check_workers(args.workers)
    seed = None if args.seed is None else check_seed(args.seed, "--seed")
    scenario = load_scenario(args.scenario, args.overrides)
    posterior = None
    if args.ensemble is not None:
        from ..experiments.ensemble import read_posterior
        posterior = read_posterior(args.ensemble)
        clash = [p for p in posterior.parameters if p in parse_overrides(args.overrides)]
        if clash:
            raise UsageError(f"--set {clash[0]} conflicts with --ensemble {args.ensemble}: "
                             f"the posterior draws {clash[0]} for every replicate")
    targets = load_targets(args.targets or scenario.name)
    reps = args.replicates or targets.replicates
    if args.out:
        out, what = Path(args.out), "--out"
        check_folder(out, what)
    else:
        out, what = Path(RESULTS_DIR) / "score" / scenario.name, "output"
        check_folder(out, what)
        check_inside(out, Path(RESULTS_DIR), what)
    for name in ("score.csv", "score.md", "score.nc", "runs.nc"):
        check_file(out / name, what)
    r = scenario.run
    months = (r.end_year - r.start_year + 1 + r.burn_in_years) * 12
    check_workload(estimate(reps, r.households, months, workers or default_workers()),
                   yes=args.yes, what=f"popsim score {scenario.name}")
    drawn = "" if posterior is None else f", one draw each of {posterior.describe()}"
    print(f"popsim score: {scenario.name} x {reps} replicates{drawn}; {r.households:,} "
          f"households, {r.start_year}-{r.end_year}; {len(targets.targets)} targets from "
          f"{targets.source}", flush=True)
    start = time.perf_counter()
    runs = run_replicates(scenario, reps, seed, posterior, workers=workers,
                          scheduler=args.scheduler, progress=not args.no_progress)
    runs.attrs["households"] = r.households
    table = score_runs(runs, targets)
    paths = write_outputs(table, runs, out)
    print(f"{reps} runs in {time.perf_counter() - start:.1f} s\n")
    print(format_terminal(table))
    print(f"\ntable:   {paths['csv']}\n         {paths['md']}\nfigures: {out}/score_*.png")
    if args.fail_outside and not bool(table["passed"].all()):
        return 1
    return 0

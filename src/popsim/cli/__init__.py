"""The ``popsim`` command.

Sub-commands: ``run``, ``scenarios``, ``show``, ``validate``, ``params``. Input errors (a bad
scenario file, key or value, an unknown name) print one clear message and exit with code 2, never
a traceback. Parameter help is generated from :mod:`popsim.schema`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from ..errors import EXIT_USAGE, InputError, UsageError
from ..scenario.loader import (DEFAULT_SCENARIO, available_scenarios, load_scenario,
                       scenario_to_toml)
from ..scenario.schema import Schedule
from ..scenario.parameters import SECTIONS, iter_params
from .common import add_scenario_args

__all__ = ["main", "build_parser", "UsageError"]



# ------------------------------------------------------------------------------------------------
# run


def _output_paths(out: str | None, name: str, seed: int) -> tuple[Path, Path]:
    stem = f"{name}-seed{seed}"
    if out is None:
        nc = Path("results") / name / f"{stem}.nc"
    elif out.endswith(".nc"):
        nc = Path(out)
    else:
        nc = Path(out) / f"{stem}.nc"
    return nc, nc.with_suffix(".png")


def _table(ds) -> str:
    head = (f"{'year':>4}  {'births':>7}  {'SRB':>6}  {'SRB p1':>6}  {'SRB p2':>6}  "
            f"{'SRB p3+':>7}  {'reported':>8}  {'abortions':>9}")
    lines = [head, "-" * len(head)]
    for y in ds["year"].values:
        d = ds.sel(year=y)
        sp = d["srb_by_parity"].values
        lines.append(f"{int(y):>4}  {float(d['total_births']):>7.0f}  {float(d['srb']):>6.1f}  "
                     f"{sp[0]:>6.1f}  {sp[1]:>6.1f}  {sp[2]:>7.1f}  "
                     f"{float(d['reported_srb']):>8.1f}  "
                     f"{float(d['sex_selective_abortions'].sum()):>9.0f}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from ..api import run
    from ..io import write_netcdf
    from ..reports.plotting import save_srb_figure

    scenario = load_scenario(args.scenario, args.overrides)
    seed = scenario.run.seed if args.seed is None else args.seed
    nc, png = _output_paths(args.out, scenario.name, seed)
    start = time.perf_counter()
    ds = run(scenario, seed)
    elapsed = time.perf_counter() - start
    write_netcdf(ds, nc)
    if not args.no_plot:
        save_srb_figure(ds, png)
    print(f"popsim {scenario.name}: {scenario.run.households:,} households, "
          f"{int(ds.year[0])}-{int(ds.year[-1])}, seed {seed} ({elapsed:.1f} s)")
    print(_table(ds))
    print(f"\ndataset: {nc}")
    if not args.no_plot:
        print(f"figure:  {png}")
    return 0


# ------------------------------------------------------------------------------------------------
# scenarios, show, validate, params


def cmd_scenarios(args: argparse.Namespace) -> int:
    items = available_scenarios()
    width = max(map(len, items))
    for name, desc in items.items():
        print(f"{name:<{width}}  {desc}")
    return 0


def _fmt_value(v) -> str:
    if isinstance(v, Schedule):
        pts = ", ".join(f"{int(y) if float(y).is_integer() else y}: {val}"
                        for y, val in zip(v.years, v.values))
        return f"{v.interp} schedule {{{pts}}}"
    if isinstance(v, tuple):
        return ", ".join(map(str, v))
    return str(v)


def cmd_show(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    if args.toml:
        print(scenario_to_toml(scenario), end="")
        return 0
    print(f"scenario {scenario.name}: {scenario.description.strip()}\n")
    specs = {p.path: p for p in iter_params()}
    for sname, cls in SECTIONS.items():
        print(f"[{sname}]  {cls.title} ({cls.kind})")
        for fname in cls.model_fields:
            spec = specs[f"{sname}.{fname}"]
            print(f"  {fname:<30} {_fmt_value(scenario.get(spec.path)):<28} {spec.unit}")
        print()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    for path in args.files:
        s = load_scenario(path)
        print(f"{path}: ok (scenario '{s.name}', {s.run.start_year}-{s.run.end_year}, "
              f"{s.run.households:,} households)")
    return 0


def params_reference(markdown: bool = False, section: str | None = None) -> str:
    """The parameter reference generated from the schema (terminal text or Markdown)."""
    out = []
    for sname, cls in SECTIONS.items():
        if section and sname != section:
            continue
        specs = [p for p in iter_params() if p.path.startswith(sname + ".")]
        if markdown:
            out += [f"### `[{sname}]` {cls.title} ({cls.kind})", "",
                    "| parameter | default | unit | bounds | meaning | source |",
                    "|---|---|---|---|---|---|"]
            for p in specs:
                default = _fmt_value(getattr(cls(), p.path.split(".")[1]))
                sched = " (schedulable)" if p.schedulable else ""
                out.append(f"| `{p.path.split('.')[1]}` | {default} | {p.unit} | "
                           f"{p.bounds_text()} | {p.description}{sched} | {p.source} |")
            out.append("")
        else:
            out.append(f"[{sname}]  {cls.title} ({cls.kind})")
            for p in specs:
                default = _fmt_value(getattr(cls(), p.path.split(".")[1]))
                out.append(f"  {p.path}")
                out.append(textwrap.fill(f"{p.description}. Default {default} {p.unit}; "
                                         f"bounds {p.bounds_text()}"
                                         f"{'; schedulable' if p.schedulable else ''}.",
                                         width=96, initial_indent="      ",
                                         subsequent_indent="      "))
            out.append("")
    return "\n".join(out)


def cmd_params(args: argparse.Namespace) -> int:
    if args.section and args.section not in SECTIONS:
        raise UsageError(f"no section '{args.section}'; sections: {', '.join(SECTIONS)}")
    print(params_reference(markdown=args.markdown, section=args.section))
    return 0


# ------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="popsim", description="Simulate how policy shapes the sex ratio at birth.",
        epilog="Exit codes: 0 success, 2 bad input or usage, 1 internal error.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"popsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run one scenario and write a dataset and a figure",
                       description="Run one scenario; write results/<scenario>/"
                                   "<scenario>-seed<N>.nc and a PNG beside it.")
    add_scenario_args(p)
    p.add_argument("--seed", type=int, default=None, help="root seed (default: run.seed)")
    p.add_argument("--out", default=None,
                   help="output .nc file or folder (default: results/<scenario>/)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scenarios", help="list the embedded scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("show", help="print a resolved scenario (defaults filled in, units)")
    add_scenario_args(p)
    p.add_argument("--toml", action="store_true", help="print it as a complete TOML file")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("validate", help="check scenario files without running them")
    p.add_argument("files", nargs="+", help="TOML files (or embedded names)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("params", help="list every parameter: default, unit, bounds, meaning")
    p.add_argument("section", nargs="?", help="only this section")
    p.add_argument("--markdown", action="store_true", help="as Markdown tables")
    p.set_defaults(func=cmd_params)

    # Sub-commands defined in other modules: each exposes add_parser(sub); one line per module.
    # --- more sub-commands ---
    from ..app import server as app_server
    app_server.add_parser(sub)
    from . import sweep as sweep_cli
    sweep_cli.add_parser(sub)
    from . import compare as compare_cli
    compare_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"popsim: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("popsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

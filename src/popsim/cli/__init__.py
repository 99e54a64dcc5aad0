# PYTHON_ARGCOMPLETE_OK
"""The ``popsim`` command.

Sub-commands: ``run`` (:mod:`popsim.cli.run`), ``scenarios``, ``show``, ``validate``,
``params`` (here), ``compare`` (:mod:`popsim.cli.compare`), the sweep commands
(:mod:`popsim.cli.sweep`) and ``app`` (:mod:`popsim.cli.app`). Input errors (a bad scenario
file, key or value, an unknown name, an argument out of range, an output path that cannot be
written) print one clear message and exit with code 2, never a traceback, and are found before
any run starts. Parameter help is generated from :mod:`popsim.scenario.parameters`.

Building the parser imports only argparse-level modules: ``popsim --version`` and ``--help``
import neither Mesa, xarray, numpy nor the schema; each command imports what it needs.

Shell completion (argcomplete; ``eval "$(register-python-argcomplete popsim)"``, docs/cli.md):
when the shell asks, :func:`main` hands the same parser to :func:`popsim.cli.completion.complete`
before parsing, which completes commands, options, scenario names and ``--set`` parameter paths
and exits. The marker comment on the first line lets argcomplete's global activation find it.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from ..errors import EXIT_USAGE, InputError, UsageError, did_you_mean
from .common import add_scenario_args

__all__ = ["main", "build_parser", "params_reference"]


# ------------------------------------------------------------------------------------------------
# scenarios, show, validate, params


def cmd_scenarios(args: argparse.Namespace) -> int:
    from ..scenario.loader import available_scenarios

    items = available_scenarios()
    width = max(map(len, items))
    for name, desc in items.items():
        print(f"{name:<{width}}  {desc}")
    return 0


def _fmt_value(v) -> str:
    from ..scenario.schema import Schedule

    if isinstance(v, Schedule):
        pts = ", ".join(f"{int(y) if float(y).is_integer() else y}: {val}"
                        for y, val in zip(v.years, v.values))
        return f"{v.interp} schedule {{{pts}}}"
    if isinstance(v, tuple):
        return ", ".join(map(str, v))
    return str(v)


def cmd_show(args: argparse.Namespace) -> int:
    from ..scenario.loader import load_scenario, scenario_to_toml
    from ..scenario.parameters import SECTIONS, iter_params

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
    from ..scenario.loader import load_scenario

    for path in args.files:
        s = load_scenario(path)
        print(f"{path}: ok (scenario '{s.name}', {s.run.start_year}-{s.run.end_year}, "
              f"{s.run.households:,} households)")
    return 0


def params_reference(markdown: bool = False, section: str | None = None) -> str:
    """The parameter reference generated from the schema (terminal text or Markdown)."""
    from ..scenario.parameters import SECTIONS, iter_params

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
    from ..scenario.parameters import SECTIONS

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

    from . import run as run_cli
    run_cli.add_parser(sub)

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

    # Sub-commands defined in other modules: each exposes add_parser(sub), which imports only
    # argparse-level things (each command imports its work lazily); one line per module.
    from . import app as app_cli
    app_cli.add_parser(sub)
    from . import sweep as sweep_cli
    sweep_cli.add_parser(sub)
    from . import compare as compare_cli
    compare_cli.add_parser(sub)
    from . import score as score_cli
    score_cli.add_parser(sub)
    from . import calibrate as calibrate_cli
    calibrate_cli.add_parser(sub)
    return parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-command parsers of ``parser``, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; a misspelt command gets a suggestion, and an argument a sub-command does
    not know is reported with that sub-command's usage (argparse reports it with the main one)."""
    commands = _commands(parser)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first not in commands and argv and argv[0] == first:
        parser.error(f"unknown command '{first}'{did_you_mean(first, commands)}; "
                     f"'popsim --help' lists the commands")
    args, extra = parser.parse_known_args(argv)
    if extra:
        commands.get(getattr(args, "command", None), parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """The ``popsim`` command: parse ``argv`` (default ``sys.argv[1:]``), run the sub-command and
    return its exit code (0, 2 for an input error, 130 when interrupted)."""
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer them and exit
        from .completion import complete

        complete(parser)
    args = _parse(parser, sys.argv[1:] if argv is None else list(argv))
    try:
        return args.func(args)
    except InputError as e:
        print(f"popsim: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("popsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``popsim params | head``): not an error of ours; point stdout at
        # /dev/null so that the interpreter's final flush does not raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Shell completion of the ``popsim`` command (argcomplete; enabling it: docs/cli.md).

:func:`complete` runs only when the shell asks for completions (``_ARGCOMPLETE`` is set): it
gives the arguments that take names their completers — embedded scenario names (and TOML files)
wherever a scenario is asked for, ``section.field=`` parameter paths after ``--set``, example
sweep specs, output variables — and lets argcomplete answer from the same parser that ``--help``
is generated from; argcomplete then exits. The completers find the arguments by their ``dest``,
so a sub-command that takes a scenario, a ``--set`` or a sweep spec is completed without a line
here.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["complete", "scenario_names", "parameter_paths", "sweep_names", "variable_names"]


def _toml_files(prefix: str, **kwargs: Any) -> list[str]:
    from argcomplete.completers import FilesCompleter

    return list(FilesCompleter(allowednames=("toml",), directories=True)(prefix, **kwargs))


def scenario_names(prefix: str, **kwargs: Any) -> dict[str, str]:
    """Embedded scenarios whose name starts with ``prefix`` (with their descriptions, which
    zsh and fish show), and TOML files."""
    from ..scenario.loader import available_scenarios

    names = {n: d for n, d in available_scenarios().items() if n.startswith(prefix)}
    return names | {f: "" for f in _toml_files(prefix, **kwargs)}


def parameter_paths(prefix: str, **_: Any) -> dict[str, str]:
    """``section.field=`` for ``--set``; the ``=`` keeps the cursor on the word (no space)."""
    from ..scenario.loader import valid_paths
    from ..scenario.parameters import iter_params

    if "=" in prefix:  # a value: nothing to suggest
        return {}
    meaning = {p.path: f"{p.description} ({p.unit})" if p.unit else p.description
               for p in iter_params()}
    return {f"{p}=": meaning.get(p, "") for p in valid_paths() if p.startswith(prefix)}


def sweep_names(prefix: str, **kwargs: Any) -> list[str]:
    """Example sweep specs shipped with popsim, and TOML files."""
    from ..experiments.sweep_spec import available_sweeps

    return [n for n in available_sweeps() if n.startswith(prefix)] + _toml_files(prefix,
                                                                                 **kwargs)


def variable_names(prefix: str, **_: Any) -> list[str]:
    """Output variables of a run (``--outcome``)."""
    from ..experiments.sweep_spec import variable_names as names

    return [n for n in names() if n.startswith(prefix)]


#: argument dest -> completer
COMPLETERS = {"scenario": scenario_names, "scenarios": scenario_names,
              "overrides": parameter_paths, "spec": sweep_names, "outcome": variable_names}


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield from _parsers(sub)


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request for ``parser`` and exit (argcomplete), after giving
    the arguments of :data:`COMPLETERS` their completers. Returns at once when the shell is not
    asking (``_ARGCOMPLETE`` unset)."""
    import argcomplete

    for p in _parsers(parser):
        for action in p._actions:
            completer = COMPLETERS.get(action.dest)
            if completer is not None and not action.choices:
                action.completer = completer  # type: ignore[attr-defined]
    argcomplete.autocomplete(parser)

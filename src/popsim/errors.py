"""popsim's errors: one hierarchy, one "did you mean".

Every mistake a user can make (a bad scenario file, key or value, a bad sweep spec, a wrong
command-line argument) raises an :class:`InputError`. The command line prints its message as one
line and exits with code 2, never a traceback; anything else is a bug in popsim.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["PopsimError", "InputError", "ScenarioError", "SpecError", "UsageError", "did_you_mean",
           "EXIT_USAGE"]

#: exit code of the ``popsim`` command for usage and input errors
EXIT_USAGE = 2


class PopsimError(Exception):
    """Base of every error popsim raises on purpose."""


class InputError(PopsimError, ValueError):
    """Input that popsim refuses: the message names the file, the key and the bound."""


class ScenarioError(InputError):
    """A scenario file, an override or an embedded name that cannot be used."""


class SpecError(ScenarioError):
    """A sweep or calibration spec that cannot be used (also a :class:`ScenarioError`, since a
    spec's scenario and parameters are checked like a scenario's)."""


class UsageError(InputError):
    """A command-line mistake: an argument out of range, a path of the wrong kind."""


def did_you_mean(word: object, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""

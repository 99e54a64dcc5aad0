"""popsim's errors: one hierarchy, one "did you mean".

Every mistake a user can make (a bad scenario file, key or value, a bad sweep spec, a wrong
command-line argument) raises an :class:`InputError`. The command line prints its message as one
line and exits with code 2, never a traceback; anything else is a bug in popsim.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable

__all__ = ["PopsimError", "InputError", "ScenarioError", "SpecError", "StoreError", "UsageError",
           "did_you_mean", "shown", "check_keys", "EXIT_USAGE"]

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


class StoreError(InputError):
    """A sweep or calibration store that cannot be used as asked: missing, not a store of that
    kind, damaged or incomplete (the message names the store and the damaged runs)."""


class UsageError(InputError):
    """A command-line mistake: an argument out of range, a path of the wrong kind."""


def did_you_mean(word: object, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when none is close.

    Only a string can be misspelt: any other ``word`` (a number, a table) gets ``""``.
    """
    if not isinstance(word, str) or len(word) > _MAX_WORD:
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(table: dict, allowed: tuple[str, ...], where: str,
               error: type[InputError] = SpecError) -> None:
    """Refuse a key of a table (a sweep's, a calibration's, a target file's) that is not
    ``allowed``, with the closest allowed key and the list of them (``error``, by default
    :class:`SpecError`)."""
    for key in table:
        if key not in allowed:
            raise error(f"{where}: unknown key {shown(key)}{did_you_mean(key, allowed)}; "
                        f"allowed: {', '.join(allowed)}")


#: longest word :func:`did_you_mean` compares (no key or choice of popsim is near this long)
_MAX_WORD = 200
#: longest text :func:`shown` prints of one value
_MAX_SHOWN = 60


def shown(value: object, limit: int = _MAX_SHOWN) -> str:
    """``value`` as an error message shows it: on one line and at most ``limit`` characters.

    Numbers read as a person writes them (``20000``, ``0.05``, ``1e+308``, the seed bound
    ``9223372036854775807``), true/false, arrays and tables as in TOML, strings quoted with
    their control characters escaped. A hostile file can hold a megabyte in one value or nest
    it thousands of levels deep; the message stays one short line.
    """
    text = _render(value, limit, 0)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _key(key: object, limit: int) -> str:
    bare = isinstance(key, str) and key and all(c.isascii() and (c.isalnum() or c in "_-")
                                                for c in key[:limit])
    return key[:limit] if bare else _render(key, limit, 8)


def _render(value: object, limit: int, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value) < 10**20:
            return str(value)
        return f"{float(value):.6g}" if value.bit_length() < 1024 else \
            f"{'-' if value < 0 else ''}a {value.bit_length()}-bit integer"
    if isinstance(value, numbers.Real):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, str):
        return repr(value[:limit + 1])
    if isinstance(value, (list, tuple, dict)):
        if depth >= 8:
            return "..."
        items = value.items() if isinstance(value, dict) else value
        parts, size = [], 0
        for item in items:
            part = f"{_key(item[0], limit)} = {_render(item[1], limit, depth + 1)}" \
                if isinstance(value, dict) else _render(item, limit, depth + 1)
            parts.append(part)
            size += len(part) + 2
            if size > limit:
                parts.append("...")
                break
        inner = ", ".join(parts)
        return f"{{{inner}}}" if isinstance(value, dict) else f"[{inner}]"
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # nested too deeply, or an int of > 4300 digits
        text = f"<{type(value).__name__}>"
    return text[:limit + 1]

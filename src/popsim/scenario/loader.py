"""Scenario files: read, extend, override, validate, write back.

A scenario is a UTF-8 TOML file whose tables are the sections of
:mod:`popsim.scenario.parameters`. It may start with ``name``, ``description`` and
``extends = "other"`` (an embedded scenario, a file beside it, or a path relative to its own
folder), and is validated strictly. Every problem is a :class:`ScenarioError` with one line per
problem naming the file (or the ``--set`` override), the key and the bound or the fix; the
command line prints it and exits with code 2, never a traceback. Hostile files are refused
before they cost anything: over :data:`MAX_FILE_BYTES`, not UTF-8 (a UTF-8 byte-order mark is
accepted), nested deeper than :data:`MAX_DEPTH`, an ``extends`` that is absolute, climbs out of
its folder or forms a cycle.

Embedded scenarios live in ``popsim/scenario/library/`` (the repository's ``scenarios/``
folder) and are loaded by name: ``load_scenario("county")``.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

import tomli_w
from pydantic import ValidationError

from ..errors import InputError, ScenarioError, did_you_mean, shown
from .parameters import SECTIONS, Scenario, parse_param
from .schema import Schedule, check_name, parse_value

__all__ = ["load_scenario", "available_scenarios", "scenario_to_toml", "scenario_to_dict",
           "scenario_hash", "parse_overrides", "check_value", "check_seed", "read_toml",
           "parse_toml", "read_text", "DEFAULT_SCENARIO", "valid_paths", "MAX_FILE_BYTES", "MAX_DEPTH"]

DEFAULT_SCENARIO = "county"
_META_KEYS = ("name", "description", "extends")
#: largest scenario file read (the embedded ones are 1-3 kB); checked before reading it all
MAX_FILE_BYTES = 1 << 20
#: deepest nesting of tables and arrays read (a schedule sits 4 levels deep: section, field,
#: points, pair). Deeper input is refused before it can exhaust Python's recursion limit or
#: tomllib's time, which grows with the square of a dotted key's length.
MAX_DEPTH = 32
#: longest chain of files extending one another
MAX_EXTENDS = 32
#: problems listed in one error (a hostile file can hold thousands)
_MAX_LINES = 10


def _embedded_dir() -> Any:
    return resources.files("popsim.scenario").joinpath("library")


def available_scenarios() -> dict[str, str]:
    """Embedded scenario names mapped to their one-line descriptions, sorted by name."""
    out = {}
    for entry in sorted(_embedded_dir().iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            lines = str(data.get("description", "")).strip().splitlines()
            out[entry.name[:-5]] = lines[0] if lines else ""
    return out


def valid_paths() -> list[str]:
    """Every ``section.field`` path of the schema."""
    return [f"{s}.{f}" for s, cls in SECTIONS.items() for f in cls.model_fields]


# ------------------------------------------------------------------------------------------------
# TOML input: bytes to tables, refusing what is not a scenario file


def read_text(path: Path, label: str | None = None,
              error: type[InputError] = ScenarioError) -> str:
    """The text of the TOML file ``path``, or ``error`` with one line naming ``label``.

    Refused: a folder or anything but a regular file, an unreadable file, a file over
    :data:`MAX_FILE_BYTES` (before reading it all), binary data, UTF-16/32 or invalid UTF-8
    (a UTF-8 byte-order mark is stripped), malformed TOML, nesting deeper than
    :data:`MAX_DEPTH`. Sweep and target specs can read their files through it too.
    """
    label = str(path) if label is None else label
    data = b""
    try:
        # opened before it is inspected (no race), without waiting for a pipe's writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise error(f"{label}: is a folder, not a TOML file")
            if not stat.S_ISREG(st.st_mode):
                raise error(f"{label}: is not a regular file")
            if st.st_size <= MAX_FILE_BYTES:  # refused unread when too big
                with os.fdopen(fd, "rb", closefd=False) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)  # +1: it may have grown since
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise error(f"{label}: file not found") from None
    except OSError as e:
        raise error(f"{label}: cannot read the file: {e.strerror or e}") from None
    size = max(st.st_size, len(data))
    if size > MAX_FILE_BYTES:
        raise error(f"{label}: the file has {size / 2**20:.1f} MiB; a scenario or spec file is "
                    f"at most {MAX_FILE_BYTES >> 20} MiB of TOML")
    return _decode(data, label, error)


def read_toml(path: Path, label: str | None = None,
              error: type[InputError] = ScenarioError) -> dict:
    """The tables of the TOML file ``path`` (:func:`read_text`, then :func:`parse_toml`)."""
    label = str(path) if label is None else label
    return parse_toml(read_text(path, label, error), label, error)


def _decode(data: bytes, label: str, error: type[InputError]) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    utf = "UTF-32" if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) else \
        "UTF-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else None
    if utf is None and b"\0" in data:
        # UTF-16 without a byte-order mark puts a zero byte beside every ASCII character
        even, odd = data[0::2], data[1::2]
        utf = "UTF-16" if max(even.count(0), odd.count(0)) > len(data) // 6 else None
        if utf is None:
            raise error(f"{label}: not a UTF-8 text file (it contains zero bytes: binary "
                        f"data?); popsim reads UTF-8 TOML files")
    if utf:
        raise error(f"{label}: the file is {utf} text; save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise error(f"{label}: not a UTF-8 text file (byte 0x{data[e.start]:02x} at line {line}, "
                    f"column {column}); save it as UTF-8") from None


def parse_toml(text: str, label: str, error: type[InputError] = ScenarioError) -> dict:
    """The tables of TOML ``text``, or ``error`` naming ``label`` (the line where known)."""
    line = _overdotted_line(text)
    if line:
        raise error(f"{label}: malformed TOML: a key at line {line} has more than "
                    f"{_MAX_KEY_DOTS} dotted parts (tables nested too deeply)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{label}: malformed TOML: {e}") from None
    except RecursionError:
        raise error(f"{label}: malformed TOML: arrays or tables nested too deeply (a scenario "
                    f"needs at most {MAX_DEPTH} levels)") from None
    except ValueError:  # Python refuses to convert an integer of over 4300 digits
        raise error(f"{label}: malformed TOML: an integer with thousands of digits") from None
    keys = _too_deep(data)
    if keys is not None:
        where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")
        raise error(f"{label}: '{_clip(where)}...' is nested more than {MAX_DEPTH} levels deep "
                    f"(popsim files need at most {MAX_DEPTH})")
    return data


def _too_deep(data: dict) -> tuple | None:
    """The first keys of a path nested deeper than :data:`MAX_DEPTH`, or None (iterative:
    a deep table must not exhaust the recursion limit that it is checked against)."""
    stack: list[tuple[Any, int, tuple]] = [(data, 0, ())]
    while stack:
        node, depth, keys = stack.pop()
        if depth > MAX_DEPTH:
            return keys
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            if isinstance(v, (dict, list)):
                stack.append((v, depth + 1, keys if len(keys) >= 3 else keys + (k,)))
    return None


#: most dots a line's keys may have: tomllib's time grows with the square of a dotted key's
#: parts (a 50,000-part key takes 40 s), so such keys are refused before it reads them; keys
#: of 33 to 256 parts are refused after parsing, by their depth
_MAX_KEY_DOTS = 256
_TOKENS = re.compile(r"[\s,\[\]{}=]+")


def _overdotted_line(text: str) -> int:
    """The first line with more than :data:`_MAX_KEY_DOTS` dots in dotted tokens outside
    strings and comments (a number's one dot does not count), or 0."""
    if text.count(".") <= _MAX_KEY_DOTS:
        return 0
    for n, line in enumerate(_code(text).split("\n"), 1):
        if line.count(".") > _MAX_KEY_DOTS and sum(
                t.count(".") for t in _TOKENS.split(line)
                if t.count(".") > 1 or t.startswith(".") or t.endswith(".")) > _MAX_KEY_DOTS:
            return n
    return 0


_OPEN = re.compile(r'"""|\'\'\'|["\'#]')
_REST = {'"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)', re.S),
         "'''": re.compile(r"[\s\S]*?(?:'''|\Z)"),
         '"': re.compile(r'(?:[^"\\\n]|\\.)*"?'), "'": re.compile(r"[^'\n]*'?"),
         "#": re.compile(r"[^\n]*")}


def _code(text: str) -> str:
    """``text`` with every string and comment replaced by ``s`` (its newlines kept), in one
    linear pass: each pattern is matched once, where its string opens."""
    out, i = [], 0
    while (m := _OPEN.search(text, i)) is not None:
        end = _REST[m.group()].match(text, m.end()).end()
        out += [text[i:m.start()], "s", "\n" * text.count("\n", m.start(), end)]
        i = end
    return "".join(out) + text[i:]


# ------------------------------------------------------------------------------------------------
# sources and extends


class _Source(NamedTuple):
    data: dict
    label: str  # how messages name it: the path as given, or scenarios/<name>.toml
    folder: Path | None  # where its extends are resolved (None: embedded)
    key: str  # its identity, whatever the spelling: the real path, or embedded:<name>


def _is_path(text: str) -> bool:
    return text.endswith(".toml") or "/" in text or "\\" in text


def _embedded(name: str) -> _Source | None:
    try:
        entry = _embedded_dir().joinpath(f"{name}.toml")
        found = entry.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        return None
    label = f"scenarios/{name}.toml"
    return _Source(parse_toml(entry.read_text(encoding="utf-8"), label), label, None,
                   f"embedded:{name}")


def _file(path: Path, label: str) -> _Source:
    return _Source(read_toml(path, label), label, path.parent, os.path.realpath(path))


def _open(source: str | Path) -> _Source:
    """A scenario named on the command line or in the API: a path (relative to the working
    directory) or an embedded name."""
    text = str(source)
    path = Path(text)
    if isinstance(source, os.PathLike) or _is_path(text) or os.path.isfile(path):
        if not os.path.lexists(text):
            raise ScenarioError(f"scenario file not found: {text} (embedded scenarios: "
                                f"{', '.join(available_scenarios())})")
        return _file(path, text)
    found = _embedded(text)
    if found is not None:
        return found
    if os.path.isdir(path):
        raise ScenarioError(f"{text}: is a folder, not a scenario file")
    names = list(available_scenarios())
    raise ScenarioError(f"unknown scenario {shown(text)}{did_you_mean(text, names)}; embedded "
                        f"scenarios: {', '.join(names)} (or give a path to a .toml file)")


def _parent(parent: Any, holder: _Source) -> _Source:
    """The scenario that ``holder`` extends. Every error names the holder's file."""
    where = f"{holder.label}: extends = {shown(parent)}"
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(f"{holder.label}: 'extends' must be the name of a scenario or the "
                            f"path of a .toml file beside this one, got {shown(parent)}")
    if not _is_path(parent):
        beside = holder.folder / f"{parent}.toml" if holder.folder is not None else None
        if beside is not None and os.path.isfile(beside) \
                and os.path.realpath(beside) != holder.key:  # county.toml may extend "county"
            return _read_parent(beside, where)
        found = _embedded(parent)
        if found is not None:
            return found
        names = list(available_scenarios())
        beside_text = f"no file {parent}.toml beside it and " if holder.folder is not None \
            else ""
        raise ScenarioError(f"{where}: {beside_text}no embedded scenario of that name"
                            f"{did_you_mean(parent, names)}; embedded scenarios: "
                            f"{', '.join(names)}")
    if holder.folder is None:
        raise ScenarioError(f"{where}: an embedded scenario extends only embedded scenarios, by "
                            f"name")
    if PurePosixPath(parent).is_absolute() or PureWindowsPath(parent).anchor \
            or parent.startswith("~"):
        raise ScenarioError(f"{where}: an absolute path is not allowed; give a path relative to "
                            f"the folder of {holder.label}")
    relative = os.path.normpath(parent.replace("\\", "/"))
    if relative == ".." or relative.startswith("../"):
        raise ScenarioError(f"{where}: the path climbs out of the folder of {holder.label}; "
                            f"keep the scenarios it extends in that folder or below it")
    path = holder.folder / relative
    if not os.path.lexists(path):
        raise ScenarioError(f"{where}: no such file {os.path.normpath(path)} (a path in "
                            f"'extends' is relative to the folder of the file that holds it)")
    return _read_parent(path, where)


def _read_parent(path: Path, where: str) -> _Source:
    try:
        return _file(path, os.path.normpath(path))
    except ScenarioError as e:  # a folder, unreadable, not UTF-8, malformed: say who extends it
        raise ScenarioError(f"{where}: {e}") from None


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            and k in SECTIONS else v
    return out


def _resolve(source: str | Path) -> tuple[dict, str]:
    """The scenario's tables with everything it extends merged in, and its label.

    Each file of the chain is validated on its own first, so that a mistake is reported
    against the file that holds it.
    """
    chain = [_open(source)]
    while "extends" in chain[-1].data:
        holder = chain[-1]
        named = holder.data.pop("extends")
        parent = _parent(named, holder)
        keys = [s.key for s in chain]
        if parent.key in keys:  # the same real file, however its path is spelt
            loop = " -> ".join(s.label for s in chain[keys.index(parent.key):])
            raise ScenarioError(f"{holder.label}: extends = {shown(named)} forms a cycle: "
                                f"{loop} -> {parent.label}")
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(f"{holder.label}: 'extends' chains more than {MAX_EXTENDS} files")
        chain.append(parent)
    for below, s in zip([None, *chain], chain):
        label = s.label if below is None else f"{s.label} (extended by {below.label})"
        _validate({k: v for k, v in s.data.items() if k not in _META_KEYS}, label)
    data = chain[-1].data
    for s in reversed(chain[:-1]):
        data = {k: v for k, v in data.items() if k not in ("name", "description")}
        data = _merge(data, s.data)
    return data, chain[0].label


# ------------------------------------------------------------------------------------------------
# overrides


class _Override(NamedTuple):
    key: str
    value: Any
    where: str  # how messages name it: "--set key=text" or "override key = value"


def _clip(text: str, limit: int = 80) -> str:
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _overrides(items: Iterable[str] | Mapping[str, Any] | str | None) -> list[_Override]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [_Override(k, v, f"override {_clip(str(k))} = {shown(v)}") for k, v in items.items()]
    out = []
    for item in [items] if isinstance(items, str) else items:
        if not isinstance(item, str):
            raise ScenarioError(f"an override is a 'section.field=value' string, got "
                                f"{shown(item)}")
        where = f"--set {_clip(item)}"
        if "=" not in item:
            raise ScenarioError(f"{where}: --set takes section.field=value (e.g. --set "
                                f"enforcement.fine=30000)")
        key, text = (s.strip() for s in item.split("=", 1))
        out.append(_Override(key, _override_value(text, where), where))
    return out


#: a --set value that starts like TOML (a number, string, array or table) must be valid TOML;
#: any other text is taken as a bare string, so that policy.regime=two_child works
_LOOKS_LIKE_TOML = re.compile(r"[\[{\"']|[+-]?\.?[0-9]")
_AT = re.compile(r" \(at line (\d+), column (\d+)\)")


def _override_value(text: str, where: str) -> Any:
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"{where}: the value is longer than {MAX_FILE_BYTES >> 20} MiB")
    try:
        doc = parse_toml(f"v = {text}", "", ScenarioError)
        if list(doc) == ["v"]:
            return doc["v"]
        reason = "one value expected"
    except ScenarioError as e:
        reason = str(e).removeprefix(": ").removeprefix("malformed TOML: ")
        at = _AT.search(reason)
        if at and at.group(1) == "1":  # columns of the value, not of "v = value"
            reason = reason[:at.start()] + f" (at column {max(int(at.group(2)) - 4, 1)})" \
                + reason[at.end():]
    if _LOOKS_LIKE_TOML.match(text):
        raise ScenarioError(f"{where}: malformed TOML value: {reason}")
    return text


def parse_overrides(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn ``["section.field=value", ...]`` (TOML values) or a mapping into ``{path: value}``.

    A value that does not start like TOML is taken as a string, so ``policy.regime=two_child``
    works; one that does (``[``, ``{``, a quote, a digit or sign) must be valid TOML.
    """
    return {o.key: o.value for o in _overrides(items)}


def _suggest_path(key: object) -> str:
    """`` (did you mean 'section.field'?)`` for a mistyped path, a bare field name or a
    section name; ``""`` when nothing is close."""
    paths = valid_paths()
    hint = did_you_mean(key, paths)
    if hint or not isinstance(key, str):
        return hint
    field = key.rsplit(".", 1)[-1]
    hint = did_you_mean(field, [p.split(".")[1] for p in paths])
    if hint:
        full = next(p for p in paths if p.endswith("." + hint.split("'")[1]))
        return f" (did you mean '{full}'?)"
    return ""


def _apply_overrides(data: dict, overrides: list[_Override]) -> dict:
    """``data`` with each override merged in, each checked first on its own, so that a bad one
    is reported as the override, not as the scenario file."""
    paths = valid_paths()
    for key, value, where in overrides:
        try:
            if key == "name":
                check_name(value)
            elif key == "description":
                if not isinstance(value, str):
                    raise InputError(f"description must be a string, got {shown(value)}")
            elif key not in paths:
                raise InputError(f"no such parameter {shown(key)}{_suggest_path(key)}; "
                                 f"'popsim params' lists them all")
            else:
                parse_param(key, value)
        except InputError as e:
            raise ScenarioError(f"{where}: {e}") from None
        if isinstance(value, Schedule):
            value = value.to_toml()
        if key in ("name", "description"):
            data = {**data, key: value}
        else:
            section, field = key.split(".")
            data = _merge(data, {section: {field: value}})
    return data


# ------------------------------------------------------------------------------------------------
# validation: the one translation of pydantic's errors into popsim's messages


def _suggest_key(loc: list[str]) -> str:
    if len(loc) == 1:
        hint = did_you_mean(loc[0], list(SECTIONS) + list(_META_KEYS))
        return hint or _suggest_path(loc[0])
    section = loc[0]
    fields = list(SECTIONS[section].model_fields) if section in SECTIONS else []
    hint = did_you_mean(loc[-1], fields)
    if not hint:
        elsewhere = [p for p in valid_paths() if p.endswith("." + loc[-1])]
        hint = f" (it belongs in '{elsewhere[0]}')" if elsewhere else ""
    return hint


def _format_validation(e: ValidationError, label: str) -> str:
    """One line per problem (at most :data:`_MAX_LINES`), each naming ``label``, the key and
    the bound or the fix."""
    lines = []
    for err in e.errors():
        loc = [str(x) for x in err["loc"]]
        key, got = ".".join(loc), err.get("input")
        if err["type"] == "extra_forbidden":
            lines.append(f"{label}: unknown key {shown(key)}{_suggest_key(loc)}")
        elif err["type"] == "value_error":
            lines.append(f"{label}: {str(err['msg']).removeprefix('Value error, ')}")
        elif err["type"] == "model_type":
            lines.append(f"{label}: '{key}' must be a table [{key}] of parameters, got "
                         f"{shown(got)}")
        elif err["type"] == "string_type":
            lines.append(f"{label}: '{key}' must be a string, "
                         + ("not a table" if isinstance(got, dict) else f"got {shown(got)}"))
        else:
            lines.append(f"{label}: {key}: {err['msg']}")
    if len(lines) > _MAX_LINES:
        lines = lines[:_MAX_LINES] + [f"{label}: ... and {len(lines) - _MAX_LINES} more problems"]
    return "\n".join(lines)


def _validate(data: dict, label: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(_format_validation(e, label)) from None


def _name_from_file(source: str | Path) -> str:
    """A safe name made from a file's name, for a scenario that gives none: ``my county.toml``
    becomes ``my_county`` (a name the user writes is checked, not changed)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(source)).stem)
    name = re.sub(r"\.{2,}", ".", name).lstrip("_.-")[:64]
    return name or "scenario"


def load_scenario(source: str | Path | Scenario = DEFAULT_SCENARIO,
                  overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
    """Load, extend, override and validate a scenario.

    ``source`` is an embedded name (``"county"``), a path to a TOML file, or a :class:`Scenario`
    (then only ``overrides`` are applied). ``overrides`` maps ``"section.field"`` to a value, or
    is a list of ``"section.field=value"`` strings as on the command line. Raises
    :class:`ScenarioError` naming the file or the override, the key and the bound.
    """
    items = _overrides(overrides)
    if isinstance(source, Scenario):
        data, label = scenario_to_dict(source), f"scenario '{source.name}'"
    else:
        data, label = _resolve(source)
        if "name" not in data:
            data["name"] = _name_from_file(source)
    data = _apply_overrides(data, items)
    scenario = _validate(data, label)
    r = scenario.run
    if r.end_year < r.start_year:
        where = next((o.where for o in reversed(items) if o.key in ("run.start_year",
                                                                     "run.end_year")), label)
        raise ScenarioError(f"{where}: run.end_year = {r.end_year} is before run.start_year = "
                            f"{r.start_year}")
    return scenario


def check_seed(value: object, where: str = "--seed") -> int:
    """``value`` as a root seed: a whole number within the bounds of ``run.seed``
    ([0, 2**63 - 1]: a seed is stored as int64), checked as the schema checks run.seed.
    Otherwise a :class:`ScenarioError` naming ``where`` (as the user wrote it: ``--seed``,
    ``seed=``, a spec's key) and the bound. Call it before any work starts."""
    try:
        return parse_value(where, SECTIONS["run"].meta("seed"), value)
    except InputError as e:
        raise ScenarioError(str(e)) from None


def scenario_to_dict(scenario: Scenario) -> dict:
    """The scenario as plain TOML-ready data, every default filled in."""
    out: dict[str, Any] = {"name": scenario.name, "description": scenario.description}
    for sname in SECTIONS:
        section = getattr(scenario, sname)
        table = {}
        for fname in type(section).model_fields:
            v = getattr(section, fname)
            table[fname] = v.to_toml() if isinstance(v, Schedule) else \
                list(v) if isinstance(v, tuple) else v
        out[sname] = table
    return out


def scenario_to_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML text (reloading it gives an equal scenario)."""
    return tomli_w.dumps(scenario_to_dict(scenario))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario's TOML text: equal scenarios, equal hashes."""
    return hashlib.sha256(scenario_to_toml(scenario).encode()).hexdigest()


def check_value(path: str, value: Any) -> Any:
    """Validate one value for a parameter path; raise :class:`ScenarioError` with the reason."""
    if path not in valid_paths():
        raise ScenarioError(f"no such parameter {shown(path)}{_suggest_path(path)}")
    try:
        return parse_param(path, value)
    except InputError as e:
        raise ScenarioError(str(e)) from None

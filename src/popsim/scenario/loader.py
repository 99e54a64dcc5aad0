"""Scenario files: load, extend, override, validate, write back.

A scenario is a TOML file whose tables are the sections of :mod:`popsim.schema`. It may start
with ``name``, ``description`` and ``extends = "other"`` (a file beside it or an embedded
scenario), and is validated strictly: an unknown key, a value out of bounds or a malformed file is
a :class:`ScenarioError` whose message names the file, the key and the fix. The command line maps
these errors to exit code 2 without a traceback.

Embedded scenarios live in ``popsim/scenario/library/`` (the repository's ``scenarios/`` folder) and are
loaded by name: ``load_scenario("county")``.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from ..errors import ScenarioError, did_you_mean
from .schema import Schedule

from .parameters import SECTIONS, Scenario, parse_param

__all__ = ["ScenarioError", "load_scenario", "available_scenarios", "scenario_to_toml",
           "scenario_hash", "parse_overrides", "DEFAULT_SCENARIO", "valid_paths"]

DEFAULT_SCENARIO = "county"
_META_KEYS = ("name", "description", "extends")


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


def _read(source: str | Path) -> tuple[dict, str, Path | None]:
    """Read a scenario by path or embedded name: (table, label for messages, folder or None)."""
    text_source = str(source)
    path = Path(text_source)
    if text_source.endswith(".toml") or path.exists() or "/" in text_source:
        if not path.is_file():
            raise ScenarioError(f"scenario file not found: {text_source}\n"
                                f"embedded scenarios: {', '.join(available_scenarios())}")
        return _parse_toml(path.read_text(encoding="utf-8"), str(path)), str(path), path.parent
    entry = _embedded_dir().joinpath(f"{text_source}.toml")
    if not entry.is_file():
        names = list(available_scenarios())
        raise ScenarioError(f"unknown scenario '{text_source}'{did_you_mean(text_source, names)}; "
                            f"embedded scenarios: {', '.join(names)} (or give a path to a "
                            f".toml file)")
    return _parse_toml(entry.read_text(encoding="utf-8"), f"{text_source} (embedded)"), \
        f"scenarios/{text_source}.toml", None


def _parse_toml(text: str, label: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{label}: malformed TOML: {e}") from None


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) \
            and k in SECTIONS else v
    return out


def _resolve(source: str | Path, seen: tuple[str, ...] = ()) -> tuple[dict, str]:
    data, label, folder = _read(source)
    if label in seen:
        raise ScenarioError(f"{label}: 'extends' forms a cycle: {' -> '.join(seen + (label,))}")
    parent = data.pop("extends", None)
    if parent is None:
        return data, label
    if not isinstance(parent, str):
        raise ScenarioError(f"{label}: 'extends' must be a scenario name or path, got {parent!r}")
    if folder is not None and (folder / f"{parent}.toml").is_file():
        parent = str(folder / f"{parent}.toml")
    base, _ = _resolve(parent, seen + (label,))
    base.pop("name", None)
    base.pop("description", None)
    return _merge(base, data), label


def parse_overrides(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn ``["section.field=value", ...]`` (TOML values) or a mapping into ``{path: value}``.

    A value that is not valid TOML is taken as a string, so ``policy.regime=two_child`` works.
    """
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError(f"--set takes section.field=value, got '{item}'")
        key, text = (s.strip() for s in item.split("=", 1))
        try:
            out[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text
    return out


def _apply_overrides(data: dict, overrides: Mapping[str, Any], label: str) -> dict:
    paths = valid_paths()
    for key, value in overrides.items():
        if key in _META_KEYS[:2]:
            data[key] = value
            continue
        if key not in paths:
            raise ScenarioError(f"override '{key}': no such parameter{did_you_mean(key, paths)}; "
                                f"'popsim params' lists them all")
        if isinstance(value, Schedule):
            value = value.to_toml()
        section, field = key.split(".")
        data = _merge(data, {section: {field: value}})
    return data


def _format_validation(e: ValidationError, label: str) -> str:
    lines = []
    for err in e.errors():
        loc = [str(x) for x in err["loc"]]
        if err["type"] == "extra_forbidden":
            if len(loc) == 1:
                cands = list(SECTIONS) + list(_META_KEYS[:2])
                hint = did_you_mean(loc[0], cands)
                if not hint:
                    hint = did_you_mean(loc[0], [p.split(".")[1] for p in valid_paths()])
                    if hint:
                        field = hint.split("'")[1]
                        full = next(p for p in valid_paths() if p.endswith("." + field))
                        hint = f" (did you mean '{full}'?)"
                lines.append(f"{label}: unknown key '{loc[0]}'{hint}")
            else:
                section = loc[0]
                fields = list(SECTIONS[section].model_fields) if section in SECTIONS else []
                hint = did_you_mean(loc[-1], fields)
                if not hint:
                    elsewhere = [p for p in valid_paths() if p.endswith("." + loc[-1])]
                    hint = f" (it belongs in '{elsewhere[0]}')" if elsewhere else ""
                lines.append(f"{label}: unknown key '{'.'.join(loc)}'{hint}")
        elif err["type"] == "value_error":
            lines.append(f"{label}: {str(err['msg']).removeprefix('Value error, ')}")
        elif err["type"] == "model_type":
            lines.append(f"{label}: '{'.'.join(loc)}' must be a table [{loc[-1]}] of parameters")
        else:
            lines.append(f"{label}: {'.'.join(loc)}: {err['msg']}")
    return "\n".join(lines)


def load_scenario(source: str | Path | Scenario = DEFAULT_SCENARIO,
                  overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Scenario:
    """Load, extend, override and validate a scenario.

    ``source`` is an embedded name (``"county"``), a path to a TOML file, or a :class:`Scenario`
    (then only ``overrides`` are applied). ``overrides`` maps ``"section.field"`` to a value, or
    is a list of ``"section.field=value"`` strings as on the command line.
    """
    if isinstance(source, Scenario):
        data, label = scenario_to_dict(source), f"scenario '{source.name}'"
    else:
        data, label = _resolve(source)
        if "name" not in data:
            data["name"] = Path(str(source)).stem
    data = _apply_overrides(data, parse_overrides(overrides), label)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(_format_validation(e, label)) from None
    r = scenario.run
    if r.end_year < r.start_year:
        raise ScenarioError(f"{label}: run.end_year = {r.end_year} is before run.start_year = "
                            f"{r.start_year}")
    return scenario


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
        raise ScenarioError(f"no such parameter '{path}'{did_you_mean(path, valid_paths())}")
    try:
        return parse_param(path, value)
    except ValueError as e:
        raise ScenarioError(str(e)) from None

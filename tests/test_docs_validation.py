"""docs/validation.md is generated from ``popsim score`` and cannot go stale: its digest of the
observations, targets, scenarios and model code must match the repository's (issue 12).
Fix: ``python docs/make_validation.py``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _make_validation():
    spec = importlib.util.spec_from_file_location("make_validation", DOCS / "make_validation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_validation_page_is_current():
    text = (DOCS / "validation.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- digest: ([0-9a-f]{64}) -->", text)
    assert found, "docs/validation.md has no digest line: regenerate it"
    assert found.group(1) == _make_validation().digest(), (
        "docs/validation.md is stale (the model, scenarios, targets or observations changed): "
        "run python docs/make_validation.py")


def test_validation_page_shows_every_scenario_and_its_figures():
    text = (DOCS / "validation.md").read_text(encoding="utf-8")
    for name in _make_validation().SCENARIOS:
        assert f"## `{name}`" in text
    for img in re.findall(r"\(img/validation/([^)]+\.png)\)", text):
        assert (DOCS / "img" / "validation" / img).is_file(), img

"""The documentation site builds offline, strictly, and its API reference is the docstrings.

One ``mkdocs build --strict`` (mkdocs-material + mkdocstrings, the ``docs`` extra) into a
temporary folder: any warning fails it (a broken link or anchor, a page left out of the nav, a
docstring mkdocstrings cannot render). The built pages must carry the docstrings of the entry
points, document every module that the package maps (the sub-packages' docstrings) name, link
the docstrings' Sphinx roles, and load nothing from the internet.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import popsim

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["popsim", "popsim.scenario", "popsim.model", "popsim.experiments",
            "popsim.validation", "popsim.calibration", "popsim.reports", "popsim.app",
            "popsim.cli"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _text(page: Path) -> str:
    """The page's text without tags, entities decoded and white space collapsed."""
    raw = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(raw))


def _first_sentence(obj) -> str:
    doc = inspect.getdoc(obj)
    assert doc, obj
    return re.sub(r"\s+", " ", doc.split("\n\n")[0]).replace("``", "")


def test_entry_points_show_their_docstrings(site):
    index = _text(site / "api" / "index.html")
    assert _first_sentence(popsim.run) in index
    scenario = _text(site / "api" / "scenario.html")
    for name in ("load_scenario", "available_scenarios", "Scenario"):
        assert _first_sentence(getattr(popsim, name)) in scenario, name
    for name in popsim.__all__:  # every top-level name says where it is documented
        assert f"popsim.{name}" in index, name
    assert _first_sentence(popsim.PopSimModel) in _text(site / "api" / "model.html")
    # a signature with its annotations, rendered from the source
    assert re.search(r"seed\s*:\s*int\s*\|\s*None\s*=\s*None", index)


def test_every_module_of_the_package_maps_is_documented(site):
    anchors = set()
    for page in (site / "api").glob("*.html"):
        anchors |= set(re.findall(r'id="(popsim[\w.]*)"', page.read_text(encoding="utf-8")))
    for package in PACKAGES:
        doc = importlib.import_module(package).__doc__ or ""
        named = re.findall(r":mod:`~?(\.?[\w.]+)`", doc)
        modules = {package + m if m.startswith(".") else m for m in named}
        modules = {m for m in modules if m.startswith(package + ".") or package == "popsim"}
        assert modules, package
        for module in sorted(modules):
            if importlib.util.find_spec(module) is None:
                continue  # a stale name in a package map (reported, not the docs' concern)
            assert module in anchors, f"{module} (named in {package}) has no API page entry"


def test_every_module_has_an_entry(site):
    """A new module gets its ``::: popsim.x.y`` line in docs/api/<sub-package>.md."""
    anchors = set()
    for page in (site / "api").glob("*.html"):
        anchors |= set(re.findall(r'id="(popsim[\w.]*)"', page.read_text(encoding="utf-8")))
    src = Path(popsim.__file__).parent
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1].startswith("_"):
            continue  # __main__ and private modules
        module = ".".join(parts)
        page = parts[1] if len(parts) > 2 else "index"
        assert module in anchors, f"add '::: {module}' to docs/api/{page}.md"


def test_sphinx_roles_become_links_and_no_role_is_left(site):
    index = (site / "api" / "index.html").read_text(encoding="utf-8")
    # the package map's :mod:`popsim.io` is a link to the module's entry on the same page
    assert re.search(r'<a class="autorefs autorefs-internal"[^>]*href="#popsim\.io"', index)
    # popsim.run's docstring names popsim.load_scenario, a name imported on first use: the link
    # goes to where it is defined
    run = index[index.index('id="popsim.api.run"'):]
    assert re.search(r'href="scenario\.html#popsim\.scenario\.loader\.load_scenario"',
                     run[:run.index('id="popsim.errors"')])
    for page in (site / "api").glob("*.html"):
        text = _text(page)
        assert not re.search(r":(mod|func|class|meth|attr|data|exc):", text), page.name
    # a #: comment above a constant is its docstring
    assert "What a variable measures" in _text(site / "api" / "model.html")


def test_the_site_loads_nothing_from_the_internet(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fetched = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(https?:)?//',
                             text)
        assert not fetched, page
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
    nav = _text(site / "api" / "index.html")
    for title in ("Model", "Validation", "Performance", "Command line", "popsim.experiments"):
        assert title in nav

"""A griffe extension for the API reference: popsim's reST-flavoured docstrings read as Markdown.

popsim's docstrings are prose written for ``help()`` and the source: ``double backticks`` (which
Markdown reads as code too), Sphinx roles such as :func:`popsim.run` or :mod:`~popsim.io` and
``Example::`` literal blocks. mkdocstrings renders docstrings as Markdown, where a role would
show as ``:func:`` followed by code. This extension, loaded by mkdocs.yml, rewrites each role
into an *optional* cross-reference: a link when the target is an object of popsim that the
reference renders (resolved like Sphinx does: absolute, then relative to the object's class and
module), plain code otherwise (a target outside popsim, e.g. ``xarray.Dataset``). Optional
references never fail ``mkdocs build --strict``; the docstrings themselves are not changed.

It also reads the ``#:`` comments above a module or class attribute (Sphinx's convention, which
popsim uses for its constants, e.g. ``RECORDED``) as that attribute's docstring.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import griffe

#: :role:`target`, :role:`~a.b.c` (shown as ``c``) and :role:`title <target>`
ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|attr|data|exc|obj|const):"
                  r"`(?P<tilde>~?)(?:(?P<title>[^`<]+?)\s*<(?P<target>[^`>]+)>|(?P<plain>[^`]+))`")
#: a paragraph ending in ``::`` that introduces an indented literal block
LITERAL = re.compile(r"(?<=\S)::[ \t]*\n(?=[ \t]*\n)")


def _lookup(scope: griffe.Object, path: str) -> str | None:
    try:
        found = scope[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    try:
        return found.final_target.path if found.is_alias else found.path
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _lazy_names(package: griffe.Module) -> dict[str, str]:
    """The package's names imported on first use (``popsim._LAZY``: name -> module)."""
    try:
        value = package.members["_LAZY"].value
        return ast.literal_eval(str(value))
    except (KeyError, AttributeError, ValueError, SyntaxError):
        return {}


def resolve(target: str, obj: griffe.Object, package: griffe.Module,
            by_name: dict[str, list[str]] | None = None) -> str | None:
    """The full path of ``target`` as referenced from ``obj``, or None outside popsim.

    ``popsim.run`` (a name the package imports on first use) is where it is defined; a target
    with a leading dot (``.spec``) is looked up like a relative one; a name found neither way
    is the one object of the package with that name, if there is exactly one (``by_name``:
    object name -> paths), as Sphinx resolves it.
    """
    target = target.strip().rstrip("()")
    root = package.name
    if target == root:
        return root
    if target.startswith(root + "."):
        rest = target[len(root) + 1:]
        lazy = _lazy_names(package)
        if rest in lazy:
            return resolve(f"{lazy[rest]}.{rest}", obj, package)
        return _lookup(package, rest)
    target = target.lstrip(".")
    scope: Any = obj
    while scope is not None:  # the object itself, its class, its module, its packages
        if not scope.is_alias and (scope.is_module or scope.is_class):
            found = _lookup(scope, target)
            if found is not None:
                return found
        scope = scope.parent
    candidates = (by_name or {}).get(target, [])
    return candidates[0] if len(candidates) == 1 else None


def rewrite(text: str, obj: griffe.Object, package: griffe.Module,
            by_name: dict[str, list[str]] | None = None) -> str:
    """``text`` with its roles as optional cross-references and ``::`` blocks as ``:``."""
    def role(m: re.Match) -> str:
        target = m["target"] or m["plain"]
        shown = (m["title"] or target).strip()
        if m["tilde"]:
            shown = shown.rsplit(".", 1)[-1]
        path = resolve(target, obj, package, by_name)
        if path is None:
            return f"`{shown}`"
        return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'

    return LITERAL.sub(":\n", ROLE.sub(role, text))


def _objects(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def comment_docstring(obj: griffe.Object) -> griffe.Docstring | None:
    """The ``#:`` comment lines right above attribute ``obj``, as its docstring."""
    if not obj.is_attribute or obj.lineno is None:
        return None
    try:
        lines = obj.module.lines
    except (AttributeError, KeyError, ValueError):
        return None
    found: list[str] = []
    i = obj.lineno - 2  # the line above the assignment (lineno counts from 1)
    while i >= 0 and lines[i].strip().startswith("#:"):
        found.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    if not found:
        return None
    return griffe.Docstring("\n".join(found), lineno=i + 2, parent=obj)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of a loaded package and give ``#:``-commented
    attributes their docstring (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        objects = list(_objects(pkg))
        by_name: dict[str, list[str]] = {}
        for obj in objects:
            by_name.setdefault(obj.name, []).append(obj.path)
        for obj in objects:
            if obj.docstring is None:
                obj.docstring = comment_docstring(obj)
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, pkg, by_name)

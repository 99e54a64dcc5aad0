"""The controls of the teaching app, generated from the scenario schema.

Every control is a :class:`Control` read from :func:`popsim.scenario.parameters.param_spec`:
its label comes from the field name and unit, its help text is the schema's one-line
description followed by the allowed bounds, and its starting value is the schema's default (a
scheduled default, such as the fertility-policy history, is shown at the first recorded year,
with the schedule beside it). No
default, bound or description is written in this module. The two run controls differ from the
schema in one declared way: the household count starts at
:data:`~popsim.app.classroom.HOUSEHOLDS` and stops at :data:`~popsim.app.classroom.MAX_HOUSEHOLDS`
so that the page stays responsive.

A number can always be typed: a value is committed when the teacher presses Enter or leaves
the field; the page hands it to :class:`~popsim.app.classroom.Classroom`, which validates it and
either applies it or returns the message shown in red under the field (a value outside the
bounds is *refused* with the reason, never silently clipped). Beside the field, a lever whose
schema bounds are a share or a chance (0 to 1) gets a slider over the whole range; a lever
whose bounds are far wider than a slider could show (a tip reward up to a million yuan) gets a
stepper, two buttons that move the value by one step of its own order of magnitude
(:meth:`Control.step`), kept inside the bounds. The help under a field says what the setting
means and which values are allowed in plain words (:mod:`popsim.app.words`).

Each control carries the CSS class ``popsim-control popsim-<section>-<field>`` (e.g.
``popsim-propaganda-reach``), its slider ``popsim-slider-<section>-<field>`` and its stepper
buttons ``popsim-down-<section>-<field>`` and ``popsim-up-<section>-<field>``, so that the browser
test can find them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara
from solara.alias import rv

from ..scenario.schema import value_at

from ..scenario.parameters import SECTIONS, parse_param, param_spec
from . import words
from .classroom import HOUSEHOLDS, LEVERS, MAX_HOUSEHOLDS

__all__ = ["Control", "control", "lever_controls", "run_controls", "format_value",
           "NumberField", "ChoiceField", "ControlField", "LeverPanel", "Slider", "Stepper"]

#: Positions of a slider over a share's range [0, 1]: steps of 0.01.
SLIDER_STEPS = 100


@dataclass(frozen=True)
class Control:
    """One control as the page shows it, derived from the schema."""

    path: str
    section: str
    label: str
    unit: str
    description: str
    bounds: str
    kind: str
    choices: tuple[str, ...] | None
    lo: float | None
    hi: float | None
    default: Any

    @property
    def slug(self) -> str:
        """``propaganda.reach`` -> ``propaganda-reach`` (CSS class suffix)."""
        return self.path.replace(".", "-").replace("_", "-")

    @property
    def css(self) -> str:
        return f"popsim-control popsim-{self.slug}"

    @property
    def hint(self) -> str:
        """The help shown under the control: the schema's description and the bounds."""
        return f"{self.description}. Allowed: {self.bounds}"

    @property
    def slider(self) -> tuple[float, float, float] | None:
        """(min, max, step) of the slider of a lever bounded to [0, 1] (a share or a chance),
        None for the others."""
        if self.kind == "float" and self.lo == 0 and self.hi == 1 and self.path in LEVERS:
            return (0.0, 1.0, 1.0 / SLIDER_STEPS)
        return None

    @property
    def stepper(self) -> bool:
        """True for a number lever with bounds too wide for a slider."""
        return self.kind in ("float", "int") and self.path in LEVERS and self.slider is None

    def step(self, value: float, direction: int) -> float:
        """``value`` moved to the next multiple, up (+1) or down (-1), of the power of ten
        below it (of the schema default at 0): 60 -> 70 or 50, 1,200 -> 2,000 or 1,000,
        0 -> 10 inspections; kept inside the schema bounds."""
        size = abs(value) if value else abs(self.default) or 1.0
        unit = 10.0 ** math.floor(math.log10(size))
        if direction < 0 and value > 0 and math.isclose(value, unit):
            unit /= 10  # 10 -> 9, not 0: one step down never empties a lever of its order
        q = value / unit
        k = math.floor(q + 1e-9) + 1 if direction > 0 else math.ceil(q - 1e-9) - 1
        new = round(k * unit, 9)
        lo = -math.inf if self.lo is None else self.lo
        hi = math.inf if self.hi is None else self.hi
        return float(min(max(new, lo), hi))


def _label(field: str, unit: str) -> str:
    name = field.replace("_", " ").capitalize()
    return f"{name} ({unit})" if unit not in ("-", "") else name


def control(path: str) -> Control:
    """The :class:`Control` of a schema parameter; a scheduled default is evaluated at the
    schema's default ``run.start_year``."""
    spec = param_spec(path)
    section, field = path.split(".")
    start = param_spec("run.start_year").default
    default = value_at(parse_param(path, spec.default), start)
    return Control(path, SECTIONS[section].title, _label(field, spec.unit), spec.unit,
                   spec.description, words.bounds_text(path), spec.kind, spec.choices, spec.lo,
                   spec.hi, default)


def lever_controls() -> list[Control]:
    """The controls of :data:`~popsim.app.classroom.LEVERS`, in page order."""
    return [control(p) for p in LEVERS]


def run_controls() -> list[Control]:
    """Seed and household count: the schema's, with the app's responsive default and limit."""
    seed = control("run.seed")
    hh = control("run.households")
    hh = Control(hh.path, hh.section, hh.label, hh.unit,
                 f"{hh.description}; the app starts at {HOUSEHOLDS:,} and stops at "
                 f"{MAX_HOUSEHOLDS:,} to stay responsive",
                 f"from {hh.lo:,.0f} to {MAX_HOUSEHOLDS:,} households", hh.kind, None, hh.lo,
                 float(MAX_HOUSEHOLDS),
                 HOUSEHOLDS)
    return [seed, hh]


def format_value(value: Any) -> str:
    """A value as typed in a field: ``0.05``, ``1200``, ``daughters_only``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


# ------------------------------------------------------------------------------------------------
# components


@solara.component
def NumberField(ctrl: Control, value: Any, on_commit: Callable[[str], None], error: str = "",
                disabled: bool = False, note: str = "", epoch: int = 0):
    """A typed number, committed on Enter or when the field loses focus.

    The text follows ``value`` whenever it or ``epoch`` (a rebuild of the runs) changes, so a
    refused entry stays visible, with its message, until the teacher corrects it.
    """
    text, set_text = solara.use_state(format_value(value))
    commit_ref = solara.use_ref(on_commit)
    commit_ref.current = on_commit

    def sync():
        set_text(format_value(value))

    solara.use_effect(sync, [value, epoch])
    hint = ctrl.hint + (f". Schedule: {note}" if note else "")
    field = rv.TextField(v_model=text, on_v_model=set_text, label=ctrl.label, hint=hint,
                         persistent_hint=True, error_messages=[error] if error else [],
                         disabled=disabled, class_=ctrl.css, dense=True)

    def attach():
        widget = solara.get_widget(field)

        def commit(*_ignored):
            commit_ref.current(widget.v_model)

        for event in ("keyup.enter", "focusout"):
            widget.on_event(event, commit)

        def detach():
            for event in ("keyup.enter", "focusout"):
                widget.on_event(event, commit, remove=True)

        return detach

    solara.use_effect(attach, [])
    return field


@solara.component
def ChoiceField(ctrl: Control, value: Any, on_commit: Callable[[str], None], error: str = "",
                disabled: bool = False, note: str = "", epoch: int = 0):
    """A choice among the schema's ``choices``."""
    hint = ctrl.hint + (f". Schedule: {note}" if note else "")
    items = [{"text": words.value_text(ctrl.path, c), "value": c} for c in ctrl.choices or ()]
    return rv.Select(v_model=value, items=items, on_v_model=on_commit,
                     label=ctrl.label, hint=hint, persistent_hint=True,
                     error_messages=[error] if error else [], disabled=disabled,
                     class_=ctrl.css, dense=True)


@solara.component
def ControlField(ctrl: Control, value: Any, on_commit: Callable[[str, Any], None],
                 error: str = "", disabled: bool = False, note: str = "", epoch: int = 0):
    """The field for a control of any kind; ``on_commit(path, value)``."""
    kind = ChoiceField if ctrl.kind == "choice" else NumberField
    # the padding keeps the label, drawn above the field, clear of a hint of several lines
    # under the field before
    with solara.Column(gap="0px", classes=["popsim-field"], style={"padding-top": "10px"}) \
            as col:
        kind(ctrl, value, lambda v: on_commit(ctrl.path, v), error=error, disabled=disabled,
             note=note, epoch=epoch)
        if ctrl.slider is not None:
            Slider(ctrl, value, lambda v: on_commit(ctrl.path, v), disabled=disabled)
        elif ctrl.stepper:
            Stepper(ctrl, value, lambda v: on_commit(ctrl.path, v), disabled=disabled)
    return col


@solara.component
def Slider(ctrl: Control, value: Any, on_commit: Callable[[float], None],
           disabled: bool = False):
    """A slider over the lever's bounds, committed when the handle is released (not at every
    position it passes while dragged, each of which would rebuild the runs)."""
    lo, hi, step = ctrl.slider or (0.0, 1.0, 0.01)
    commit_ref = solara.use_ref(on_commit)
    commit_ref.current = on_commit
    slider = rv.Slider(v_model=value, min=lo, max=hi, step=step, thumb_label=True,
                       disabled=disabled, dense=True, hide_details=True,
                       class_=f"popsim-slider popsim-slider-{ctrl.slug}")

    def attach():
        widget = solara.get_widget(slider)

        def commit(_widget, _event, data):
            commit_ref.current(float(data))

        widget.on_event("change", commit)
        return lambda: widget.on_event("change", commit, remove=True)

    solara.use_effect(attach, [])
    return slider


@solara.component
def Stepper(ctrl: Control, value: Any, on_commit: Callable[[float], None],
            disabled: bool = False):
    """Two buttons that move the lever one step down or up (:meth:`Control.step`)."""
    number = float(value) if isinstance(value, (int, float)) else 0.0
    with solara.Row(gap="4px", style={"align-items": "center"}) as row:
        for direction, text, css in ((-1, "−", "down"), (1, "+", "up")):
            target = ctrl.step(number, direction)
            solara.Button(f"{text} {format_value(abs(target - number))}", small=True,
                          outlined=True, disabled=disabled or target == number,
                          classes=[f"popsim-{css}-{ctrl.slug}"],
                          on_click=lambda t=target: on_commit(t))
    return row


@solara.component
def LeverPanel(levers: dict[str, Any], schedules: dict[str, str], errors: dict[str, str],
               on_commit: Callable[[str, Any], None], epoch: int = 0):
    """The levers, grouped under their schema section titles."""
    section = None
    with solara.Column(gap="4px", classes=["popsim-levers"]) as panel:
        for ctrl in lever_controls():
            if ctrl.section != section:
                section = ctrl.section
                solara.Text(section, style={"font-weight": "bold", "margin-top": "8px"})
            ControlField(ctrl, levers[ctrl.path], on_commit, error=errors.get(ctrl.path, ""),
                         note=schedules.get(ctrl.path, ""), epoch=epoch)
    return panel

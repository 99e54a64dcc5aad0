"""Year-by-year parameter values, evaluated once per run.

The model never reads a schedule in its monthly step: :class:`YearParams` evaluates every field
of the scenario for each calendar year of the run (burn-in included) when the model is built, and
the step reads plain numbers from ``model.p`` (the current year's values). Step schedules switch on
1 January of their year; linear schedules are evaluated at 1 January.

Burn-in years (before ``run.start_year``) reproduce a county without the comprehensive measures:
every lever that declares an ``off`` value in the schema takes it then. Context and the
fertility-policy regime follow their schedules throughout.
"""

from __future__ import annotations

from types import SimpleNamespace

from .schema import value_at

from .parameters import SECTIONS, Scenario

__all__ = ["YearParams", "POLICY_LIMITS"]

#: Births allowed by each fertility-policy regime: (urban, rural first child a boy, rural first
#: child a girl). "one_and_half" is the rural rule of 1984 onwards: a second child if the first
#: is a girl. Source: national policy history (Gu et al. 2007, Population and Development Review).
POLICY_LIMITS: dict[str, tuple[int, int, int]] = {
    "none": (99, 99, 99),
    "one_child": (1, 1, 1),
    "one_and_half": (1, 1, 2),
    "two_child": (2, 2, 2),
    "three_child": (3, 3, 3),
}


class YearParams:
    """All parameter values of ``scenario`` for every year in ``[first_year, last_year]``.

    ``YearParams(...)[year]`` is a namespace of sections (``p.enforcement.fine``), each value a
    plain number, string or bool for that year.
    """

    def __init__(self, scenario: Scenario, first_year: int, last_year: int):
        self.first_year = first_year
        start = scenario.run.start_year
        self._years = []
        for year in range(first_year, last_year + 1):
            ns = SimpleNamespace(year=year)
            for sname, cls in SECTIONS.items():
                section = getattr(scenario, sname)
                values = {}
                for f, info in cls.model_fields.items():
                    off = info.json_schema_extra["off"]
                    values[f] = off if (year < start and off is not None) \
                        else value_at(getattr(section, f), year)
                setattr(ns, sname, SimpleNamespace(**values))
            self._years.append(ns)

    def __getitem__(self, year: int) -> SimpleNamespace:
        i = year - self.first_year
        return self._years[min(max(i, 0), len(self._years) - 1)]

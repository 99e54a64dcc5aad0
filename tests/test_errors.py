"""popsim.errors: one hierarchy, one "did you mean", one way to show a value in a message."""

from __future__ import annotations

import numpy as np
import pytest

from popsim.errors import (EXIT_USAGE, InputError, PopsimError, ScenarioError, SpecError,
                           UsageError, did_you_mean, shown)


def test_every_input_error_is_one_family():
    assert issubclass(ScenarioError, InputError) and issubclass(SpecError, ScenarioError)
    assert issubclass(UsageError, InputError) and issubclass(InputError, PopsimError)
    assert issubclass(InputError, ValueError)  # callers catching ValueError still catch it
    assert EXIT_USAGE == 2


@pytest.mark.parametrize("word,candidates,hint", [
    ("enforcment", ["enforcement", "propaganda"], " (did you mean 'enforcement'?)"),
    ("two_childs", ("none", "two_child"), " (did you mean 'two_child'?)"),
    ("zzz", ["enforcement"], ""),
    (3, ["3", "enforcement"], ""),  # only a string can be misspelt
    ({"a": 1}, ["a"], ""),
    ("enforcement" * 100, ["enforcement"], ""),  # a hostile megabyte is not compared
])
def test_did_you_mean(word, candidates, hint):
    assert did_you_mean(word, candidates) == hint


@pytest.mark.parametrize("value,text", [
    (1e308, "1e+308"), (-1e300, "-1e+300"), (20000.0, "20000"), (0.05, "0.05"),
    (2**63 - 1, "9223372036854775807"), (2**63, "9223372036854775808"), (10**30, "1e+30"),
    (10**400, "a 1329-bit integer"), (float("nan"), "nan"), (float("inf"), "inf"),
    (True, "true"), (False, "false"), (np.int64(7), "7"), (np.float64(1.5), "1.5"),
    ("abc", "'abc'"), ("a\nb", "'a\\nb'"), ([True, 5], "[true, 5]"),
    ({"step": 3, "b c": [1.5]}, "{step = 3, 'b c' = [1.5]}"), ((5, 6), "[5, 6]"),
])
def test_shown_reads_as_a_person_writes_it(value, text):
    assert shown(value) == text


def test_shown_stays_one_short_line_for_hostile_values():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    for value in ["x" * 1_000_000, list(range(100_000)), deep, {"k" * 500: "v\n" * 500},
                  {str(i): i for i in range(10_000)}]:
        text = shown(value)
        assert len(text) <= 60 and "\n" not in text, text
    assert shown("x" * 100).endswith("...")

"""Hostile sweep specs: every one refused before any run with one line naming the spec file (and
the key), exit code 2, no traceback, nothing written; and requests too large for one sweep or for
the machine refused with their estimated run time and memory."""

from __future__ import annotations

import numpy as np
import pytest

from popsim import cli, workload
from popsim.experiments import sweep_design, sweep_spec

TINY = """
"run.households" = 2000
"run.start_year" = 2000
"run.end_year" = 2001
"run.burn_in_years" = 5
"""

SPEC = f"""
name = "hostile"
scenario = "county"
seed = 3
replicates = 2

[overrides]
{TINY}

[parameters]
"enforcement.inspections_per_month" = [0, 40]

[outputs]
variables = ["srb", "births"]
"""
PARAM = '"enforcement.inspections_per_month" = [0, 40]'


def _replace(old: str, new: str) -> str:
    assert old in SPEC
    return SPEC.replace(old, new)


# (case id, file content (text or bytes), fragments the message must hold)
HOSTILE = [
    ("unknown top key", _replace("replicates = 2", "replicate = 2"),
     ["unknown key 'replicate'", "did you mean 'replicates'?"]),
    ("unknown parameter", _replace(PARAM, '"enforcement.inspection_per_month" = [0, 40]'),
     ["[parameters] 'enforcement.inspection_per_month'",
      "did you mean 'enforcement.inspections_per_month'?"]),
    ("unsafe name", _replace('name = "hostile"', 'name = "../../outside"'),
     ["name = '../../outside'", "results/<name>.zarr"]),
    ("name too long", _replace('name = "hostile"', f'name = "{"x" * 65}"'), ["1-64 letters"]),
    ("name not text", _replace('name = "hostile"', "name = 5"), ["name = 5"]),
    ("negative seed", _replace("seed = 3", "seed = -1"), ["'seed'", "below the lower bound 0"]),
    ("huge seed", _replace("seed = 3", "seed = 1e300"), ["'seed'", "1e+300", "upper bound"]),
    ("fractional seed", _replace("seed = 3", "seed = 1.5"), ["'seed'", "whole number"]),
    ("zero replicates", _replace("replicates = 2", "replicates = 0"),
     ["'replicates' must be a whole number >= 1, got 0"]),
    ("boolean replicates", _replace("replicates = 2", "replicates = true"), ["'replicates'"]),
    ("missing scenario file", _replace('scenario = "county"', 'scenario = "nowhere.toml"'),
     ["scenario = 'nowhere.toml'", "no such file"]),
    ("unknown scenario", _replace('scenario = "county"', 'scenario = "countyy"'),
     ["scenario = 'countyy'", "did you mean 'county'?"]),
    ("unknown override", _replace('"run.households" = 2000', '"run.househlds" = 2000'),
     ["[overrides]", "did you mean 'run.households'?"]),
    ("override out of bounds", _replace('"run.households" = 2000', '"run.households" = 5'),
     ["[overrides]", "run.households", "below the lower bound 100"]),
    ("value 1e308", _replace(PARAM, '"enforcement.inspections_per_month" = [0, 1e308]'),
     ["'enforcement.inspections_per_month'", "1e+308 is above the upper bound 10000"]),
    ("NaN value", _replace(PARAM, '"enforcement.inspections_per_month" = [0, nan]'),
     ["must be finite"]),
    ("schedule as a value", _replace(PARAM, '"enforcement.inspections_per_month" = '
                                            '[[2000, 1], [2001, 2]]'), ["no schedules"]),
    ("range of a yes/no", _replace(PARAM, '"registration.approval_required" = '
                                          '{ min = 0, max = 1, num = 2 }'),
     ["'registration.approval_required'", "a numeric parameter"]),
    ("value twice", _replace(PARAM, '"enforcement.inspections_per_month" = [40, 40.0]'),
     ["occurs twice"]),
    ("text for a parameter", _replace(PARAM, '"enforcement.inspections_per_month" = "lots"'),
     ["takes a list of values or a table"]),
    ("num not a number", _replace(PARAM, '"enforcement.inspections_per_month" = '
                                         '{ min = 0, max = 9, num = "x" }'),
     ["a grid range needs num", "got 'x'"]),
    ("design kind typo", _replace("[outputs]", '[design]\nkind = "sobl"\n[outputs]'),
     ["[design]", "did you mean 'sobol'?"]),
    ("design not a table", _replace("replicates = 2", 'replicates = 2\ndesign = "grid"'),
     ["'design' must be a table [design]"]),
    ("parameters not a table", _replace("[parameters]\n" + PARAM, "")
     .replace("replicates = 2", "replicates = 2\nparameters = 3"),
     ["[parameters] must be a table"]),
    ("variables not a list", _replace('variables = ["srb", "births"]', 'variables = "srb"'),
     ["[outputs]", "variables must be a list"]),
    ("variable twice", _replace('variables = ["srb", "births"]', 'variables = ["srb", "srb"]'),
     ["listed twice"]),
    ("description not text", _replace('name = "hostile"', 'name = "hostile"\ndescription = 3'),
     ["'description' must be text"]),
    ("malformed TOML", _replace("replicates = 2", "replicates = = 2"), ["malformed TOML"]),
    ("deeply nested arrays", "x = " + "[" * 5000 + "]" * 5000 + "\n", ["nested too deeply"]),
    ("binary garbage", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)),
     ["not a UTF-8 text file"]),
    ("UTF-16", SPEC.encode("utf-16"), ["UTF-16"]),
    ("Latin-1", _replace("hostile", "hostile").encode() + b'\n# caf\xe9\n', ["not a UTF-8 text file"]),
    ("morris with one parameter", _replace("[outputs]", '[design]\nkind = "morris"\nn = 4\n'
                                                        '[outputs]'),
     ["two parameters for a morris design"]),
]

TWO = '"enforcement.inspections_per_month" = { min = 0, max = 40 }\n' \
      '"propaganda.reach" = { min = 0, max = 0.2 }'


def _design(lines: str) -> str:
    return _replace(PARAM, TWO).replace("[outputs]", f"[design]\n{lines}\n[outputs]")


HOSTILE += [
    ("odd Morris levels", _design('kind = "morris"\nn = 4\nlevels = 5'),
     ["[design]", "levels = 5", "even number of levels", "e.g. 6"]),
    ("levels for a sobol design", _design('kind = "sobol"\nn = 4\nlevels = 4'),
     ["'levels' is for morris designs, not sobol"]),
    ("morris without n", _design('kind = "morris"'), ["needs n (its number of trajectories)"]),
    ("fast n too small", _design('kind = "fast"\nn = 64'),
     ["fast needs n > 4 m^2 = 64 samples per parameter (m = 4); got n = 64"]),
    ("m for an lhs design", _design('kind = "lhs"\nn = 4\nm = 2'),
     ["'m' is for fast designs, not lhs"]),
    ("design kind typo morris", _design('kind = "moris"\nn = 4'), ["did you mean 'morris'?"]),
    ("one package", _replace("[outputs]", "[packages]\nonly = {}\n[outputs]"),
     ["[packages]", "at least two packages"]),
    ("package sets a swept lever", _replace("[outputs]", '[packages]\na = {}\nb = { '
                                            '"enforcement.inspections_per_month" = 9 }\n'
                                            '[outputs]'),
     ["[packages] 'b'", "is swept in [parameters]"]),
    ("package lever misspelt", _replace("[outputs]", '[packages]\na = {}\nb = { '
                                        '"incentives.benefit_per_yaer" = 9 }\n[outputs]'),
     ["[packages] 'b'", "did you mean 'incentives.benefit_per_year'?"]),
    ("package lever out of bounds", _replace("[outputs]", '[packages]\na = {}\nb = { '
                                             '"propaganda.reach" = 7 }\n[outputs]'),
     ["[packages] 'b'", "above the upper bound"]),
    ("package changes the years", _replace("[outputs]", '[packages]\na = {}\nb = { '
                                           '"run.end_year" = 2005 }\n[outputs]'),
     ["cannot be set by a package", "'year' dimension"]),
    ("unsafe package name", _replace("[outputs]", '[packages]\na = {}\n"../x" = {}\n'
                                     '[outputs]'), ["a package name is 1-64 letters"]),
    ("packages not a table", _replace("replicates = 2", "replicates = 2\npackages = 3"),
     ["[packages] must be a table of named packages"]),
    ("missing posterior", _replace("replicates = 2", 'replicates = 2\nensemble = "nowhere.nc"'),
     ["ensemble: posterior", "nowhere.nc': no such file"]),
    ("posterior not a path", _replace("replicates = 2", "replicates = 2\nensemble = 3"),
     ["'ensemble' must be the path of a posterior netCDF file, got 3"]),
    ("draws without an ensemble", _replace("replicates = 2", "draws = 2"),
     ["'draws' needs 'ensemble'"]),
]


def _refused(tmp_path, capsys, content, *argv: str) -> str:
    path = tmp_path / "hostile.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    store = tmp_path / "hostile.zarr"
    assert cli.main(["sweep", str(path), "--out", str(store), "--workers", "1",
                     "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"popsim: error: {path}"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert not store.exists()
    return err


@pytest.mark.parametrize("case, content, fragments", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_spec_names_the_file_and_key(tmp_path, capsys, case, content, fragments):
    err = _refused(tmp_path, capsys, content)
    for fragment in fragments:
        assert fragment in err, f"{case}: {fragment!r} not in {err!r}"


def test_a_utf8_byte_order_mark_is_accepted_like_a_scenario_file(tmp_path):
    # one reader for every popsim TOML file (scenario.loader.read_toml): a BOM is stripped
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SPEC.encode())
    assert sweep_spec.load_spec(path).name == sweep_spec.parse_spec(SPEC).name


def test_a_megabyte_value_gives_a_short_message(tmp_path, capsys):
    text = _replace(PARAM, f'"enforcement.inspections_per_month" = "{"x" * 1_000_000}"')
    err = _refused(tmp_path, capsys, text)
    assert "takes a list of values or a table" in err and len(err) < 400 + len(str(tmp_path))


# Sizes far beyond one sweep: counted, not built (a 10**9-row design would not fit in memory).
TOO_LARGE = [
    ("replicates = 10**9", _replace("replicates = 2", "replicates = 1000000000"),
     ["2,000,000,000 runs", "more than the 1,000,000"]),
    ("grid range of 10**9 values", _replace(PARAM, '"enforcement.inspections_per_month" = '
                                                   '{ min = 0, max = 40, num = 1000000000 }'),
     ["a grid of 1000000000 values", "2,000,000,000 runs"]),
    ("grid of 10**9 cells", _replace(PARAM, "\n".join(
        f'"{p}" = {{ min = 0, max = {hi}, num = 1000 }}' for p, hi in
        [("enforcement.inspections_per_month", 40), ("incentives.benefit_per_year", 6000),
         ("enforcement.tip_reward", 5000)])).replace("replicates = 2", "replicates = 1"),
     ["a grid of 1000 x 1000 x 1000 values", "1,000,000,000 runs"]),
    ("sobol n = 2**30", _replace(PARAM, '"enforcement.inspections_per_month" = '
                                        '{ min = 0, max = 40 }\n"propaganda.reach" = '
                                        '{ min = 0, max = 0.2 }')
     .replace("[outputs]", '[design]\nkind = "sobol"\nn = 1073741824\n[outputs]'),
     ["a sobol design of n = 1073741824", "8,589,934,592 runs"]),
    ("lhs n = 10**9", _replace(PARAM, '"enforcement.inspections_per_month" = '
                                      '{ min = 0, max = 40 }')
     .replace("[outputs]", '[design]\nkind = "lhs"\nn = 1000000000\n[outputs]'),
     ["2,000,000,000 runs"]),
]


@pytest.mark.parametrize("case, content, fragments", TOO_LARGE, ids=[c[0] for c in TOO_LARGE])
def test_a_design_too_large_is_refused_with_its_estimate(tmp_path, capsys, case, content,
                                                         fragments):
    for argv in ((), ("--yes",)):  # too large for one store: --yes does not help
        err = _refused(tmp_path, capsys, content, *argv)
        for fragment in fragments + ["of CPU", "of memory", "split it"]:
            assert fragment in err, f"{case}: {fragment!r} not in {err!r}"


def test_households_at_the_schema_maximum_are_refused_before_any_run(tmp_path, capsys):
    text = _replace('"run.households" = 2000', '"run.households" = 50000000') \
        .replace('"run.end_year" = 2001', '"run.end_year" = 2020') \
        .replace("replicates = 2", "replicates = 30")
    err = _refused(tmp_path, capsys, text)
    # refused for its CPU time (pass --yes) or, on a small machine, for its memory
    assert "50,000,000 households" in err and ("--yes" in err or "of memory" in err)
    assert "sweep 'hostile'" in err


def test_yes_accepts_a_long_request(tmp_path, capsys, monkeypatch):
    """Above the CPU threshold a sweep needs --yes; with it, it runs (threshold made tiny)."""
    monkeypatch.setattr(workload, "MAX_CPU_HOURS", 1e-9)
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC, encoding="utf-8")
    store = tmp_path / "tiny.zarr"
    argv = ["sweep", str(path), "--out", str(store), "--workers", "1", "--no-progress"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "is large: 4 run(s) of 2,000 households x 84 months" in err and "--yes" in err
    assert not store.exists()
    assert cli.main(argv + ["--yes"]) == 0
    assert "(0 already complete, 4 run now)" in capsys.readouterr().out


def test_unknown_spec_suggests_the_closest_example(capsys):
    assert cli.main(["sweep", "enforcement_incentive_gird"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("popsim: error: enforcement_incentive_gird:")
    assert "did you mean 'enforcement_incentive_grid'?" in err


def test_scenario_path_is_relative_to_the_spec_folder(tmp_path, monkeypatch):
    specs, elsewhere = tmp_path / "specs", tmp_path / "elsewhere"
    specs.mkdir()
    elsewhere.mkdir()
    (specs / "base.toml").write_text('extends = "county"\n[run]\nhouseholds = 3000\n',
                                     encoding="utf-8")
    spec_file = specs / "s.toml"
    spec_file.write_text(_replace('scenario = "county"', 'scenario = "base.toml"')
                         .replace('"run.households" = 2000\n', ""), encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # never resolved against the working directory
    assert sweep_spec.load_spec(spec_file).base.run.households == 3000
    (specs / "base.toml").rename(elsewhere / "base.toml")
    with pytest.raises(sweep_spec.SpecError, match=r"s\.toml: scenario = 'base\.toml': no such"):
        sweep_spec.load_spec(spec_file)


def test_a_name_from_the_file_name_is_made_safe(tmp_path):
    path = tmp_path / "my sweep (v2)!.toml"
    path.write_text(_replace('name = "hostile"\n', ""), encoding="utf-8")
    assert sweep_spec.load_spec(path).name == "my_sweep__v2__"


def test_points_are_made_on_demand_in_store_order(tmp_path):
    grid = _replace(PARAM, PARAM + '\n"propaganda.reach" = [0.0, 0.1, 0.2]')
    path = tmp_path / "g.toml"
    path.write_text(grid, encoding="utf-8")
    spec = sweep_spec.load_spec(path)
    points = sweep_design.Points(spec)
    assert len(points) == 6 and spec.shape == (2, 3, 2) and spec.runs == 12
    assert [points[i] for i in range(6)] == list(points)
    assert points[4] == {"enforcement.inspections_per_month": 40.0, "propaganda.reach": 0.1}
    tasks = sweep_design.Tasks(spec)
    scenario, seed, _ = tasks[9]  # point 4, replicate 1
    # a swept lever takes its value from run.start_year, the base's history before
    from popsim.scenario.schema import value_at
    start = scenario.run.start_year
    inspections = scenario.enforcement.inspections_per_month
    assert value_at(inspections, start) == 40.0 and seed == tasks.seeds[1]
    assert value_at(inspections, start - 1) == \
        value_at(spec.base.enforcement.inspections_per_month, start - 1)


@pytest.mark.parametrize("kind, extra, runs", [
    ("lhs", "", 5 * 2),
    ("sobol", "", 8 * (2 + 2) * 2),
    ("morris", "levels = 6", 5 * (2 + 1) * 2),
    ("fast", "m = 2", 17 * 2 * 2),
])
def test_sampled_designs_come_from_the_spec_seed(tmp_path, kind, extra, runs):
    n = {"lhs": 5, "sobol": 8, "morris": 5, "fast": 17}[kind]
    text = _design(f'kind = "{kind}"\nn = {n}\n{extra}')
    spec = sweep_spec.parse_spec(text)
    assert spec.runs == runs and spec.design == kind
    first = sweep_design.unit_sample(spec)
    np.testing.assert_array_equal(first, sweep_design.unit_sample(sweep_spec.parse_spec(text)))
    other = sweep_design.unit_sample(sweep_spec.parse_spec(text.replace("seed = 3",
                                                                        "seed = 4")))
    assert not np.array_equal(first, other)
    assert first.shape == (runs // 2, 2) and first.min() >= 0 and first.max() <= 1
    if kind == "morris":  # on the grid of levels, one parameter moving per step
        levels = np.unique(first)
        np.testing.assert_allclose(levels, np.arange(6) / 5)
        steps = np.diff(first.reshape(n, 3, 2), axis=1)
        assert ((steps != 0).sum(axis=2) == 1).all()
    if kind == "lhs":  # SciPy's Latin hypercube: one point in each fifth of every range
        assert (np.sort(np.floor(first * 5), axis=0) == np.arange(5)[:, None]).all()


def test_lever_packages_cross_every_design_point(tmp_path):
    text = _design('kind = "lhs"\nn = 3').replace(
        "[outputs]", '[packages]\nnone = {}\n[packages.cash]\nincentives.girl_birth_cash = '
                     '2000\n[outputs]')
    spec = sweep_spec.parse_spec(text)
    assert [p.name for p in spec.packages] == ["none", "cash"]
    assert spec.run_dims == ("package", "run", "replicate") and spec.shape == (2, 3, 2)
    tasks = sweep_design.Tasks(spec)
    assert len(tasks) == 12
    a, seed_a, _ = tasks[1]  # package none, point 0, replicate 1
    b, seed_b, _ = tasks[7]  # package cash, point 0, replicate 1
    assert seed_a == seed_b and a.propaganda.reach == b.propaganda.reach
    from popsim.scenario.schema import value_at
    start = spec.base.run.start_year  # a package's levers act from the start year
    assert a.incentives.girl_birth_cash == spec.base.incentives.girl_birth_cash
    assert value_at(b.incentives.girl_birth_cash, start) == 2000
    assert value_at(b.incentives.girl_birth_cash, start - 1) == \
        value_at(spec.base.incentives.girl_birth_cash, start - 1)
    assert spec.canonical()["packages"] == [["none", {}],
                                            ["cash", {"incentives.girl_birth_cash": 2000}]]
    plain = sweep_spec.parse_spec(_design('kind = "lhs"\nn = 3'))
    assert "packages" not in plain.canonical() and plain.sha256() != spec.sha256()


# ------------------------------------------------------------------------------------------------
# ensembles (issue 15): replicate r at every point and package uses seed r and draw r

ENSEMBLE = ["behaviour.abort_intercept", "behaviour.seek_motivation"]


def _write_posterior(folder):
    from popsim.experiments.ensemble import posterior_dataset, write_posterior

    ds = posterior_dataset(ENSEMBLE, [[-20.0, 8.0], [2.0, 8.0], [-4.0, 6.0]], [0.3, 0.3, 0.4],
                           attrs={"method": "test fixture"})
    return write_posterior(ds, folder / "post.nc")


def _ensemble_spec(tmp_path, lines: str, text: str = SPEC):
    _write_posterior(tmp_path)
    path = tmp_path / "ens.toml"
    path.write_text(text.replace("replicates = 2", lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("lines, extra, fragments", [
    ('ensemble = "post.nc"\ndraws = 3\nreplicates = 2', "",
     ["draws = 3 and replicates = 2 differ"]),
    ('ensemble = "post.nc"\ndraws = 0', "", ["'draws' must be a whole number in [1, 100,000]"]),
    ('ensemble = "post.nc"', '"behaviour.seek_motivation" = [4, 8]',
     ["behaviour.seek_motivation is drawn from the ensemble post.nc", "[parameters]"]),
    ('ensemble = "post.nc"\n[packages]\na = {}\nb = { "behaviour.abort_intercept" = 1 }', "",
     ["behaviour.abort_intercept is drawn", "[packages] b"]),
])
def test_a_bad_ensemble_is_refused_naming_the_spec(tmp_path, capsys, lines, extra, fragments):
    text = SPEC.replace(PARAM, PARAM + "\n" + extra) if extra else SPEC
    if "[packages]" in lines:  # a table must follow the top-level keys
        top, table = lines.split("\n[packages]")
        text = text.replace("replicates = 2", top).replace("[outputs]",
                                                           "[packages]" + table + "\n[outputs]")
        lines = top
    _write_posterior(tmp_path)
    err = _refused(tmp_path, capsys, text.replace("replicates = 2", lines))
    for fragment in fragments:
        assert fragment in err, err


def test_an_override_of_a_drawn_parameter_is_refused(tmp_path):
    path = _ensemble_spec(tmp_path, 'ensemble = "post.nc"',
                          SPEC.replace(TINY, TINY + '"behaviour.abort_intercept" = 0\n'))
    with pytest.raises(sweep_spec.SpecError, match=r"abort_intercept is drawn .* \[overrides\]"):
        sweep_spec.load_spec(path)


def test_an_ensemble_pairs_draws_and_seeds_across_points_and_packages(tmp_path, monkeypatch):
    text = SPEC.replace("[outputs]", "[packages]\nnone = {}\nloud = { \"propaganda.reach\" = "
                                     "0.5 }\n[outputs]")
    path = _ensemble_spec(tmp_path, 'ensemble = "post.nc"\ndraws = 4', text)
    monkeypatch.chdir(tmp_path.parent)  # the posterior's path is relative to the spec's folder
    spec = sweep_spec.load_spec(path)
    assert spec.replicates == 4 and spec.shape == (2, 2, 4)
    assert spec.posterior.path == tmp_path / "post.nc"
    draws = spec.posterior.draws(4, spec.seed)
    tasks = sweep_design.Tasks(spec)
    for k in range(len(tasks)):
        scenario, seed, _ = tasks[k]
        r = k % 4
        assert seed == tasks.seeds[r]
        assert {p: scenario.get(p) for p in ENSEMBLE} == draws[r]
    # the meaning of the spec includes the posterior's content (not its path)
    plain = sweep_spec.parse_spec(SPEC.replace("replicates = 2", "replicates = 4"))
    assert spec.canonical()["ensemble_sha256"] == spec.posterior.digest
    assert "ensemble_sha256" not in plain.canonical()


def test_the_command_line_replaces_the_spec_ensemble_and_draws(tmp_path):
    path = _ensemble_spec(tmp_path, "replicates = 2")
    spec = sweep_spec.load_spec(path, ensemble=tmp_path / "post.nc", draws=5)
    assert spec.replicates == 5 and spec.posterior is not None
    assert sweep_spec.load_spec(path, ensemble=tmp_path / "post.nc").replicates == 2
    with pytest.raises(sweep_spec.SpecError, match="'draws' needs 'ensemble'"):
        sweep_spec.load_spec(path, draws=5)

"""Regenerate the generated parts of docs/model.md and its figure.

docs/model.md describes the model as implemented (ODD protocol). Four of its blocks are written
by this script, never by hand, so that the description cannot drift from the code:

* between ``<!-- steps:start -->`` and ``<!-- steps:end -->``: the order of one step, from the
  docstring of :meth:`popsim.model.model.PopSimModel.step` (whose phases a test checks against
  the calls in ``step``);
* between ``<!-- fixed:start -->`` and ``<!-- fixed:end -->``: the constants of the model's
  rules, the schema parameters declared ``fixed``;
* between ``<!-- params:start -->`` and ``<!-- params:end -->``: the parameter tables, one per
  schema section, from :func:`popsim.cli.params_reference` (``tests/test_docs.py`` fails when
  any of these three blocks differs from the code);
* between ``<!-- calibration:start -->`` and ``<!-- calibration:end -->``: the calibration table,
  from runs of the ``county`` and ``baseline`` scenarios (3 replicate seeds each, default
  settings), compared with the census and county figures copied below with their sources.

It also draws docs/img/county_vs_baseline.png (true and reported SRB, total and by birth order,
2000-2020, both scenarios, with the natural level).

Usage, from the repository root::

    python docs/make_docs.py                 # tables, calibration and figure (about 20 s)
    python docs/make_docs.py --params-only   # step order and tables only (no model runs)

Every file is written atomically (:func:`popsim.io.atomic_path`). Reference data are copied into
this file; nothing is read from outside the repository at run time.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import popsim
from popsim.cli import params_reference
from popsim.io import atomic_path
from popsim.model.model import PopSimModel
from popsim.model.streams import replicate_seeds
from popsim.scenario import iter_params

DOCS = Path(__file__).resolve().parent
MODEL_MD = DOCS / "model.md"
FIGURE = DOCS / "img" / "county_vs_baseline.png"
SCENARIOS = ("county", "baseline")
N_SEEDS = 3

# ---------------------------------------------------------------------------------------------
# Reference figures, copied with their source lines (census tabulations and county work reports).

# china_srb_by_parity_2000.csv:
#   "# China 2000 census: sex ratio at birth by birth order (male per 100 female)."
#   "# Medium-high confidence; widely quoted census tabulation."
#   2000,1,107.1 / 2000,2,151.9 / 2000,3+,159.4
CENSUS_2000_BY_PARITY = {"1": 107.1, "2": 151.9, "3+": 159.4}

# china_srb_total.csv:
#   "# Sources: census and 1% sample survey releases (NBS, NHFPC) as quoted in the literature;"
#   "# 2000 census reported 116.86, adjusted 119.92: treat census-year values as +-3 points."
#   2000,116.86,2000 census,adjusted 119.92
CENSUS_2000_REPORTED = 116.86
CENSUS_2000_ADJUSTED = 119.92
CENSUS_TOLERANCE = 3.0

# County work reports, a 16-township county, 2011: "births January-November 2,647, birth rate
# 8.47 per 1000 of 312,388 people"; 8.47 / 1000 x 312,388 = 2,646 a year, and 2,647 x 12 / 11 =
# 2,888 for the whole year: about 2,900.
COUNTY_BIRTHS = (2650.0, 2900.0)
# Reported SRB of the county reports at the end of the period, the band used as the calibration
# target: 106.19 (Laohekou, first 9 months of 2012), 108.26 (the 16-township county, January-
# November 2011), 112.28 (Guangshui, to 30 September 2007).
COUNTY_REPORTED_SRB = (106.0, 112.0)
# TFR: the calibration target of about 1.4 (the 2000 census reported 1.22, an under-count).
TFR_TARGET = 1.4
# National births, NBS statistical communiqués: 16.55 million (2015), 17.86 million (2016),
# 17.23 million (2017); the peak year after the two-child change was 7.9% above 2015.
TWO_CHILD_RESPONSE = 17.86 / 16.55

#: Years pooled for comparison with the 2000 census ("around 2000"; five years for precision).
CENSUS_YEARS = (2000, 2004)
#: Years pooled for the county's SRB "at the end" of the period.
END_YEARS = (2016, 2020)
#: Years before the two-child change, for births per year and TFR.
ONE_CHILD_YEARS = (2000, 2015)

# ---------------------------------------------------------------------------------------------
# Marker blocks


README = DOCS.parent / "README.md"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def read_block(text: str, name: str) -> str:
    """The text between the ``name`` markers, stripped; ``ValueError`` if they are missing."""
    start, end = _markers(name)
    m = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, flags=re.S)
    if m is None:
        raise ValueError(f"docs/model.md has no {start} ... {end} block")
    return m.group(1).strip()


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the ``name`` block replaced by ``content`` (one blank line each side)."""
    read_block(text, name)  # fail clearly if the markers are missing
    start, end = _markers(name)
    pattern = re.escape(start) + r".*?" + re.escape(end)
    return re.sub(pattern, lambda _m: f"{start}\n\n{content.strip()}\n\n{end}", text,
                  count=1, flags=re.S)


def params_block() -> str:
    """The parameter tables as they must appear in docs/model.md."""
    return params_reference(markdown=True).strip()


def steps_block() -> str:
    """The step order as it must appear in docs/model.md: the docstring of
    ``PopSimModel.step``, in Markdown."""
    doc = inspect.getdoc(PopSimModel.step)
    return re.sub(r"``([^`]+)``", r"`\1`", doc).strip()


def fixed_block() -> str:
    """The table of the schema's fixed constants as it must appear in docs/model.md."""
    lines = ["| parameter | value | unit | meaning | source |", "|---|---|---|---|---|"]
    for p in iter_params():
        if p.fixed:
            lines.append(f"| `{p.path}` | {p.default:g} | {p.unit} | {p.description} | "
                         f"{p.source} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Runs and pooled statistics


def run_scenarios(n_seeds: int = N_SEEDS) -> dict[str, xr.Dataset]:
    """Each scenario with the same ``n_seeds`` replicate seeds, stacked on ``replicate``."""
    out = {}
    for name in SCENARIOS:
        root = popsim.load_scenario(name).run.seed
        seeds = replicate_seeds(root, n_seeds)
        runs = [popsim.run(name, seed=s) for s in seeds]
        out[name] = xr.concat(runs, dim="replicate", combine_attrs="drop_conflicts") \
            .assign_coords(replicate=seeds)
    return out


def _ratio(b: xr.DataArray, dims) -> xr.DataArray:
    b = b.sum(dims)
    return 100.0 * b.sel(sex="male") / b.sel(sex="female")


def pooled_srb(ds: xr.Dataset, years: tuple[int, int] | None = None, parity: str | None = None,
               reported: bool = False, by_replicate: bool = False) -> xr.DataArray:
    """SRB from counts pooled over replicates (unless ``by_replicate``), over ``years`` (else
    by year) and over parities (unless ``parity`` is given)."""
    b = ds["reported_births" if reported else "births"]
    b = b.sum("parity") if parity is None else b.sel(parity=parity)
    dims = [] if by_replicate else ["replicate"]
    if years is not None:
        b = b.sel(year=slice(*years))
        dims.append("year")
    return _ratio(b, dims)


def _fmt(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def _span(values, digits: int) -> str:
    v = np.asarray(values, dtype=float)
    return f"{_fmt(v.min(), digits)}-{_fmt(v.max(), digits)}"


def _versus(x: float, ref: float | tuple[float, float] | None, digits: int) -> str:
    """Model minus a point reference, or the model's position relative to a band."""
    if ref is None:
        return "-"
    if isinstance(ref, tuple):
        lo, hi = ref
        if x < lo:
            return f"below by {_fmt(lo - x, digits)}"
        if x > hi:
            return f"above by {_fmt(x - hi, digits)}"
        return "inside"
    return f"{x - ref:+,.{digits}f}"


def calibration_rows(runs: dict[str, xr.Dataset]) -> list[tuple[str, str, str, str, str, str]]:
    """(quantity, model value, range over seeds, reference, model vs reference, source)."""
    base, county = runs["baseline"], runs["county"]
    rows = []

    def add(label, value, per_seed, ref_text, ref, source, digits=1):
        x = float(value)
        rows.append((label, _fmt(x, digits), _span(per_seed, digits), ref_text,
                     _versus(x, ref, digits), source))

    y0, y1 = CENSUS_YEARS
    tol = CENSUS_TOLERANCE
    for reported, ref, what in ((False, CENSUS_2000_ADJUSTED, "adjusted"),
                                (True, CENSUS_2000_REPORTED, "reported")):
        kind = "reported" if reported else "true"
        add(f"baseline SRB {y0}-{y1}, all births, {kind}",
            pooled_srb(base, CENSUS_YEARS, reported=reported),
            pooled_srb(base, CENSUS_YEARS, reported=reported, by_replicate=True),
            f"{ref} ± {tol:g} ({what})", (ref - tol, ref + tol), "2000 census (NBS)")
    for parity, ref in CENSUS_2000_BY_PARITY.items():
        add(f"baseline SRB {y0}-{y1}, birth order {parity}, true",
            pooled_srb(base, CENSUS_YEARS, parity),
            pooled_srb(base, CENSUS_YEARS, parity, by_replicate=True),
            f"{ref}", ref, "2000 census by birth order")
    e0, e1 = END_YEARS
    add(f"county SRB {e0}-{e1}, true", pooled_srb(county, END_YEARS),
        pooled_srb(county, END_YEARS, by_replicate=True), "-", None, "-")
    add(f"county SRB {e0}-{e1}, reported", pooled_srb(county, END_YEARS, reported=True),
        pooled_srb(county, END_YEARS, reported=True, by_replicate=True),
        f"{COUNTY_REPORTED_SRB[0]:g}-{COUNTY_REPORTED_SRB[1]:g}", COUNTY_REPORTED_SRB,
        "county work reports")
    o0, o1 = ONE_CHILD_YEARS
    births = county["total_births"].sel(year=slice(o0, o1)).mean("year")
    add(f"county births per year, {o0}-{o1}", births.mean(), births.values,
        f"{COUNTY_BIRTHS[0]:,.0f}-{COUNTY_BIRTHS[1]:,.0f}", COUNTY_BIRTHS,
        "county work reports (8.47 per 1000 of 312,388; 'about 2,900')", digits=0)
    late = county["total_births"].sel(year=slice(e0, e1)).mean("year")
    add(f"county births per year, {e0}-{e1}", late.mean(), late.values, "-", None, "-",
        digits=0)
    tfr = county["tfr"].sel(year=slice(o0, o1)).mean("year")
    add(f"county TFR, mean {o0}-{o1}", tfr.mean(), tfr.values, f"~{TFR_TARGET}", TFR_TARGET,
        "calibration target (2000 census reported 1.22)", digits=2)
    tb = county["total_births"]
    resp = tb.sel(year=[2016, 2017]).max("year") / tb.sel(year=2015)
    add("county births, peak of 2016-2017 / 2015", resp.mean(), resp.values,
        f"{TWO_CHILD_RESPONSE:.2f}", TWO_CHILD_RESPONSE,
        "national births 2015-2016 (NBS communiqués)", digits=2)
    return rows


def calibration_block(runs: dict[str, xr.Dataset]) -> str:
    seeds = ", ".join(str(s) for s in runs["county"]["replicate"].values)
    root = popsim.load_scenario("county").run.seed
    lines = [
        f"Model: `county` and `baseline` at their defaults, {N_SEEDS} replicate seeds "
        f"(`replicate_seeds({root}, {N_SEEDS})` = {seeds}; the same seeds for both scenarios). "
        "SRBs are computed from births pooled over the seeds and years shown; *seeds* gives the "
        "range of the per-seed values. Generated by `docs/make_docs.py`.",
        "",
        "| quantity | model | seeds | reference | model vs reference | source |",
        "|---|---|---|---|---|---|",
    ]
    for row in calibration_rows(runs):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Figure

COLOURS = {"county": "#1b7837", "baseline": "#b2182b"}


def figure(runs: dict[str, xr.Dataset]):
    """True (solid) and reported (dashed) SRB of both scenarios, total and by birth order."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MultipleLocator

    natural = float(runs["county"].attrs.get("natural_srb", 106.0))
    fig = Figure(figsize=(11, 8), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    panels = [(None, "All births"), ("1", "Birth order 1"), ("2", "Birth order 2"),
              ("3+", "Birth order 3+")]
    for ax, (parity, title) in zip(axes, panels):
        for name, ds in runs.items():
            years = ds["year"].values
            c = COLOURS[name]
            per_seed = pooled_srb(ds, parity=parity, by_replicate=True)
            ax.fill_between(years, per_seed.min("replicate"), per_seed.max("replicate"),
                            color=c, alpha=0.12, lw=0)
            ax.plot(years, pooled_srb(ds, parity=parity), color=c, lw=2, label=f"{name}, true")
            ax.plot(years, pooled_srb(ds, parity=parity, reported=True), color=c, lw=1.3,
                    ls="--", label=f"{name}, reported")
        ax.axhline(natural, color="tab:blue", lw=1, ls=":", label=f"natural ({natural:g})")
        ax.axvline(2016, color="grey", lw=0.8, alpha=0.6)
        ax.text(2016.2, 0.98, "two-child", transform=ax.get_xaxis_transform(), fontsize=7,
                va="top", color="grey")
        ax.set_title(title)
        ax.xaxis.set_major_locator(MultipleLocator(4))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=9)
    for ax in axes[2:]:
        ax.set_xlabel("year")
    for ax in axes[::2]:
        ax.set_ylabel("males per 100 females")
    fig.suptitle(f"Sex ratio at birth, county (four measures) vs baseline (none): "
                 f"{runs['county'].sizes['replicate']} seeds pooled; band = range over seeds")
    return fig


def save_figure(fig, dest: Path) -> None:
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


# ---------------------------------------------------------------------------------------------


def write_doc(text: str, dest: Path = MODEL_MD) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params-only", action="store_true",
                    help="regenerate the step order and the tables only (no model runs)")
    args = ap.parse_args(argv)
    text = MODEL_MD.read_text(encoding="utf-8")
    try:
        text = replace_block(text, "steps", steps_block())
        text = replace_block(text, "fixed", fixed_block())
        text = replace_block(text, "params", params_block())
        if not args.params_only:
            runs = run_scenarios()
            text = replace_block(text, "calibration", calibration_block(runs))
            save_figure(figure(runs), FIGURE)
            print(f"wrote {FIGURE.relative_to(DOCS.parent)}")
    except ValueError as e:
        print(f"make_docs: error: {e}", file=sys.stderr)
        return 2
    write_doc(text)
    print(f"wrote {MODEL_MD.relative_to(DOCS.parent)}")
    # the README's scenario reference is the same generated tables
    readme = replace_block(README.read_text(encoding="utf-8"), "params", params_block())
    write_doc(readme, README)
    print(f"wrote {README.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

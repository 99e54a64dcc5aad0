"""Incremental cost-effectiveness of the compared packages: the efficient frontier and its ICERs.

A planner choosing among packages of measures asks what each *extra* yuan buys: going from one
package to the next more expensive one, how many more missing girls are averted, and at what
cost per extra girl. The answer follows the incremental cost-effectiveness table of health
economics (Drummond M.F., Sculpher M.J., Claxton K., Stoddart G.L., Torrance G.W., *Methods for
the Economic Evaluation of Health Care Programmes*, 4th ed., Oxford University Press 2015,
ch. 4; extended dominance after Cantor S.B., "Cost-effectiveness analysis, extended dominance,
and ethics", *Medical Decision Making* 14 (1994) 259-265):

1. every package, the baseline included, is placed by its mean cost over the run (total cost of
   the measures, incentives committed included) and its mean effect (missing female births
   averted against the baseline), both means over replicates;
2. packages are ordered by cost, cheapest first (equal costs: the larger effect first);
3. a package with exactly the mean cost and effect of one listed before it is **equal** to it
   (the same measures in effect, e.g. ``county`` and ``comprehensive``): it shares that one's
   place and is left out of the next steps; otherwise a package is **dominated** when a
   package costing no more averts at least as many girls;
4. among the rest, a package is **extendedly dominated** when its incremental cost per extra
   girl averted (ICER) is higher than that of the next more expensive package: a mix of its two
   neighbours would avert as many girls for less. It is removed and the ICERs recomputed until
   they rise along the list;
5. what remains is the **efficient frontier**. Its cheapest package is the **reference**; every
   other frontier package gets its extra girls averted, extra cost and ICER against the previous
   frontier package. Dominated and extendedly dominated packages get their increments against
   the frontier package just cheaper than them (how far they fall short) and no ICER.

Intervals are 90% intervals across replicates of the **paired** differences (replicate ``r`` of
both packages shares its random numbers, and under ``--ensemble`` its parameter draw): the
extra girls averted and extra cost of replicate ``r``. The ICER's interval is that of the
per-replicate ratios, given only when the extra girls averted are positive in every replicate
(a ratio whose denominator can be zero or negative has no interval that means anything). The
frontier itself is drawn from the means; ``frontier_share`` says in what share of the
replicates, taken one at a time, a package is on the frontier (how firm its place is).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .compare_metrics import quantile_interval

__all__ = ["frontier", "incremental_table", "REFERENCE", "FRONTIER", "DOMINATED",
           "EXTENDEDLY_DOMINATED", "EQUAL", "UNDEFINED", "STATUS_MEANINGS"]

REFERENCE, FRONTIER, EQUAL = "reference", "frontier", "equal"
DOMINATED, EXTENDEDLY_DOMINATED, UNDEFINED = "dominated", "extendedly dominated", "undefined"

#: One sentence per status, for the notes under a table.
STATUS_MEANINGS = {
    REFERENCE: "the cheapest package on the frontier; the increments start from it",
    FRONTIER: "on the efficient frontier: compared with the previous frontier package",
    DOMINATED: "a package costing no more averts at least as many girls",
    EXTENDEDLY_DOMINATED: "its cost per extra girl is higher than that of the next package, so "
                          "a mix of its neighbours would do better for less",
    EQUAL: "the same mean cost and effect as the package in 'versus' (the same measures in "
           "effect); it shares that package's place",
    UNDEFINED: "its mean cost or effect is not a number",
}


def frontier(cost: np.ndarray, effect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Status of every option and the index of the option it is compared with (-1: none).

    ``cost`` and ``effect`` are 1-d (one value per option; larger effect is better). The
    procedure is steps 2-5 of the module docstring.
    """
    cost, effect = np.asarray(cost, float), np.asarray(effect, float)
    n = cost.size
    status = np.full(n, UNDEFINED, dtype=object)
    versus = np.full(n, -1, dtype=int)
    ok = np.isfinite(cost) & np.isfinite(effect)
    order = [i for i in np.lexsort((-effect, cost)) if ok[i]]
    candidates: list[int] = []
    best = -np.inf
    first: dict[tuple[float, float], int] = {}
    for i in order:
        twin = first.setdefault((float(cost[i]), float(effect[i])), int(i))
        if twin != i:
            status[i], versus[i] = EQUAL, twin
        elif effect[i] <= best:
            status[i] = DOMINATED
        else:
            candidates.append(i)
            best = effect[i]
    front = list(candidates)
    while len(front) > 2:
        icer = [(cost[b] - cost[a]) / (effect[b] - effect[a]) for a, b in zip(front, front[1:])]
        worse = next((k for k in range(len(icer) - 1) if icer[k] > icer[k + 1]), None)
        if worse is None:
            break
        status[front[worse + 1]] = EXTENDEDLY_DOMINATED
        del front[worse + 1]
    for k, i in enumerate(front):
        status[i] = REFERENCE if k == 0 else FRONTIER
        versus[i] = -1 if k == 0 else front[k - 1]
    for i in order:
        if status[i] in (DOMINATED, EXTENDEDLY_DOMINATED):
            cheaper = [j for j in front if (cost[j], -effect[j]) <= (cost[i], -effect[i])
                       and j != i]
            versus[i] = cheaper[-1] if cheaper else front[0]
    return status.astype(str), versus


def incremental_table(names: np.ndarray, cost: np.ndarray, effect: np.ndarray) -> xr.Dataset:
    """The incremental cost-effectiveness of packages from per-replicate values.

    ``cost`` and ``effect`` have shape (packages, replicates): total cost of the measures over
    the run (yuan) and missing female births averted against the baseline (births, 0 for the
    baseline). Returns, along ``scenario`` (in the order given):

    * ``ce_rank`` (1 = cheapest), ``ce_status`` (:data:`STATUS_MEANINGS`), ``ce_versus`` (the
      package compared with, "" for the reference or undefined);
    * ``incremental_averted``, ``incremental_cost`` and ``icer`` with ``stat`` = mean, lo, hi
      (paired 90% intervals, module docstring); the ICER is NaN off the frontier;
    * ``frontier_share``: the share of replicates in which the package is on the frontier
      (reference or frontier) when the frontier is drawn from that replicate alone.
    """
    names = np.asarray(names).astype(str)
    cost, effect = np.asarray(cost, float), np.asarray(effect, float)
    n, reps = cost.shape
    with np.errstate(all="ignore"):
        mc, me = np.nanmean(cost, axis=1), np.nanmean(effect, axis=1)
    status, versus = frontier(mc, me)
    rank = np.zeros(n, dtype=int)
    rank[np.lexsort((-me, mc))] = np.arange(1, n + 1)
    inc = {k: np.full((n, 3), np.nan) for k in ("incremental_averted", "incremental_cost", "icer")}
    for i in range(n):
        j = versus[i]
        if j < 0:
            continue
        de, dc = effect[i] - effect[j], cost[i] - cost[j]
        for key, d in (("incremental_averted", de), ("incremental_cost", dc)):
            lo, hi = quantile_interval(d)
            inc[key][i] = [np.nanmean(d), lo, hi]
        if status[i] == FRONTIER:
            icer = np.nanmean(dc) / np.nanmean(de)
            lo = hi = np.nan
            if np.all(de > 0):
                lo, hi = quantile_interval(dc / de)
            inc["icer"][i] = [icer, lo, hi]
    on = np.zeros(n)
    for r in range(reps):
        s, v = frontier(cost[:, r], effect[:, r])
        here = np.isin(s, (REFERENCE, FRONTIER))
        twins = s == EQUAL
        here[twins] = here[v[twins]]
        on += here
    units = {"incremental_averted": "births", "incremental_cost": "yuan",
             "icer": "yuan per birth"}
    meanings = {
        "incremental_averted": "Extra missing female births averted over the run against the "
                               "package compared with (paired)",
        "incremental_cost": "Extra cost over the run against the package compared with "
                            "(paired; incentives committed as a present value)",
        "icer": "Incremental cost-effectiveness ratio: extra cost per extra missing female "
                "birth averted, against the previous package on the frontier",
    }
    out = xr.Dataset(
        {k: (("scenario", "stat"), v, {"units": units[k], "long_name": meanings[k]})
         for k, v in inc.items()},
        coords={"scenario": names, "stat": ["mean", "lo", "hi"]})
    out["ce_rank"] = ("scenario", rank, {"units": "1", "long_name": "Place in the order by mean "
                                                                 "cost (1 = cheapest)"})
    out["ce_status"] = ("scenario", status, {"long_name": "Place on the cost-effectiveness "
                                                          "frontier"})
    out["ce_versus"] = ("scenario", np.array([names[j] if j >= 0 else "" for j in versus]),
                        {"long_name": "Package the increments are measured against"})
    out["frontier_share"] = ("scenario", on / max(reps, 1),
                             {"units": "fraction", "long_name": "Share of replicates in which "
                              "the package is on the frontier of that replicate alone"})
    return out

"""Write the refactoring pins (see tests/test_pins.py): ``python tests/data/pins/make_pins.py``."""

from __future__ import annotations

from pathlib import Path

CASES = {
    "county_s3": ("county", 3, {"run.households": 4000, "run.start_year": 2000,
                                "run.end_year": 2006, "run.burn_in_years": 20}),
    "baseline_s5": ("baseline", 5, {"run.households": 4000, "run.start_year": 1995,
                                    "run.end_year": 2004, "run.burn_in_years": 20}),
    "accountability_s1": ("accountability_pressure", 1, {"run.households": 3000,
                                                         "run.end_year": 2008,
                                                         "run.burn_in_years": 15}),
    "comprehensive_s2": ("comprehensive", 2, {"run.households": 3000, "run.end_year": 2010,
                                              "run.burn_in_years": 15,
                                              "incentives.eligibility": "small_family"}),
    "two_child_s4": ("two_child_2016", 4, {"run.households": 3000, "run.start_year": 2010,
                                           "run.end_year": 2020, "run.burn_in_years": 15}),
}

if __name__ == "__main__":
    import popsim

    here = Path(__file__).parent
    for name, (scenario, seed, overrides) in CASES.items():
        ds = popsim.run(scenario, seed=seed, overrides=overrides)
        ds.attrs = {}
        ds.to_netcdf(here / f"{name}.nc")
        print(name, int(ds["births"].sum()))

"""Tables and figures of runs and experiments (every file written through :mod:`popsim.io`).

- :mod:`popsim.reports.plotting`        the figure of one run
- :mod:`popsim.reports.compare_report`  the planner table and figure of a comparison
- :mod:`popsim.reports.sweep_plot`      figures of a sweep store
"""

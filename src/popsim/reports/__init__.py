"""Tables and figures of runs and experiments (every file written through :mod:`popsim.io`).

- :mod:`popsim.reports.run_report`      the table and figure of ``popsim run`` (bands, marks on
  cells with too few births)
- :mod:`popsim.reports.compare_report`  the planner table and figure of a comparison
- :mod:`popsim.reports.score_report`    the validation table and figures of ``popsim score``
- :mod:`popsim.reports.calibration_report`  posteriors, fits and convergence of a calibration
- :mod:`popsim.reports.sweep_plot`      figures of a sweep store
"""

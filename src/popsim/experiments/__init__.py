"""Experiments built on :func:`popsim.run`: many runs, one labelled result.

- :mod:`popsim.experiments.executors`            serial, process-pool and dask executors
  (identical results)
- :mod:`popsim.experiments.burnin`               shared burn-ins: runs that differ only in levers
  start from one saved state (identical results)
- :mod:`popsim.experiments.runs`                 many runs on any executor, in order, stacked
- :mod:`popsim.experiments.ensemble`             posteriors, their draws and ensemble runs
- :mod:`popsim.experiments.compare`              packages of measures side by side, common random
  numbers, a baseline of the same county
- :mod:`popsim.experiments.compare_metrics`      the derived outcomes and intervals of a comparison
- :mod:`popsim.experiments.cost_effectiveness`   the cost-effectiveness frontier and incremental
  ratios
- :mod:`popsim.experiments.sweep_spec`           sweep specs: parameters, designs, packages, outputs
- :mod:`popsim.experiments.sweep_design`         design points (grid, lhs, sobol, morris, fast)
  and the run tasks
- :mod:`popsim.experiments.sweep`                a sweep into a resumable zarr store
- :mod:`popsim.experiments.sweep_store`          per-run digests: checking and repairing a store
- :mod:`popsim.experiments.sweep_export`         a store as netCDF or a tidy CSV with units
- :mod:`popsim.experiments.sensitivity`          sensitivity indices from a store, with
  convergence and noise warnings
- :mod:`popsim.experiments.sensitivity_methods`  the SALib analyses (Sobol, Morris, eFAST,
  RBD-FAST, delta, PAWN)
- :mod:`popsim.experiments.robustness`           lever packages x context samples: regret and
  the share of contexts in which each package is best
"""

"""Calibration: fit schema parameters to the validation targets (``popsim calibrate``).

- :mod:`.spec`      the calibration spec (TOML): scenario(s), targets, free parameters and their
  priors, method, budget, replicates, overrides, seed; every value checked before any run
- :mod:`.evaluate`  one evaluation (runs of every fit at one parameter set), the targets'
  statistics and their distance to the observations, the SQLite store of finished evaluations
  (streamed as they finish; a resumed calibration repeats none)
- :mod:`.abc`       ABC-SMC with pyABC (its history in SQLite; ``--resume`` with
  ``ABCSMC.load``), on popsim's executors through a deterministic sampler
- :mod:`.optimize`  a point fit with Optuna's TPE (its RDB storage in SQLite)
- :mod:`.result`    running a calibration end to end, the posterior dataset (the layout of
  :mod:`popsim.experiments.ensemble`) and the verdict: a fit, or a spec that cannot fit
"""

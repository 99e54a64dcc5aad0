"""Validation: how well a scenario reproduces what really happened.

- :mod:`popsim.validation.observed`    the observations shipped in ``popsim/data`` (each with its
  source and its uncertainty band), read by one small loader
- :mod:`popsim.validation.statistics`  the statistics a target can ask for, computed from run
  datasets stacked along ``replicate`` (pooled counts, per-replicate values for intervals)
- :mod:`popsim.validation.targets`     target files (``targets/<scenario>.toml``): which
  observations a history scenario is scored on, with which statistic and tolerance
- :mod:`popsim.validation.score`       ``popsim score``: run replicates, compute every target,
  one table and one summary line

The tables and figures are drawn by :mod:`popsim.reports.score_report`.
"""

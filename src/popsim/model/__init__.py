"""The model: one county, one month per step.

- :mod:`popsim.model.streams`         named random streams from one root seed
- :mod:`popsim.model.coords`          the coordinates of the output (parities, sources, ages)
- :mod:`popsim.model.incentives`      who qualifies for the incentives, and what it is worth
- :mod:`popsim.model.children`        each woman's children: sex, birth month, survival
- :mod:`popsim.model.fertility_policy`  local rules, over-quota births and the maintenance fee
- :mod:`popsim.model.households`      the vectorised households (struct of arrays), life course
- :mod:`popsim.model.kernels`, :mod:`~popsim.model.kernels_monthly`,
  :mod:`~popsim.model.kernels_calls` and :mod:`~popsim.model.kernels_market`: compiled (numba)
  twins of the hot household passes, the stream hash and the market's monthly passes, bitwise
  equal to the numpy reference path (``POPSIM_KERNELS=numpy``)
- :mod:`popsim.model.clinics`         providers (Mesa agents) and the illegal market
- :mod:`popsim.model.selection`       household decisions: motivation, risk, seeking, abortion
- :mod:`popsim.model.enforcement`     the enforcement office (a Mesa agent) and its case ledger
- :mod:`popsim.model.accountability`  reported SRB, misreporting, effort feedback
- :mod:`popsim.model.recording`       yearly buffers -> ``xarray.Dataset``
- :mod:`popsim.model.model`           :class:`PopSimModel`, the clock: the monthly step order
- :mod:`popsim.model.snapshot`        the whole state of a model at 1 January, saved and resumed
  exactly (shared burn-ins, the app's lever changes)
"""

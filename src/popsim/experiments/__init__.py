"""Experiments built on :func:`popsim.run`: many runs, one labelled result.

- :mod:`popsim.experiments.executors`    serial, process-pool and dask executors (identical results)
- :mod:`popsim.experiments.compare`      packages of measures side by side, common random numbers
- :mod:`popsim.experiments.sweep_spec`   sweep specs: parameters, designs, outputs
- :mod:`popsim.experiments.sweep`        a sweep into a resumable zarr store
- :mod:`popsim.experiments.sensitivity`  sensitivity indices from a sweep store
"""

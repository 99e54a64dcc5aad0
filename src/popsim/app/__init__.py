"""The teaching app: the policy trade-offs of comprehensive governance, live in a browser.

No internet is needed.

``popsim app`` serves a Solara page on localhost. A class sees a county (10,000 households by
default) run year by year under the levers the teacher sets, beside a *shadow* run of the same
county with the same seed and none of the four measures, so that every difference between the
two lines is the effect of the levers and not noise (common random numbers). Seven
lessons load two configurations side by side, each with two sentences of explanation and a
question for the class.

Read the package in this order:

- :mod:`popsim.app.classroom`  the live runs behind the page: build, step a year, change a lever
  mid-run, snapshot (no browser, no Solara: the notebook and the fast tests use it directly)
- :mod:`popsim.app.live`       one live run, with a snapshot of every January (bounded memory)
- :mod:`popsim.app.uncertainty`  "with uncertainty": posterior members of the main run, a band
- :mod:`popsim.app.lessons`    the seven lessons: texts and preset configurations (data only)
- :mod:`popsim.app.words`      plain words for settings, generated from the schema
- :mod:`popsim.app.views`      what a snapshot shows: numbers, trade-offs, charts as data
- :mod:`popsim.app.charts`     drawing them: ECharts options (page), matplotlib figures (notebook)
- :mod:`popsim.app.controls`   the controls, generated from the schema (Solara)
- :mod:`popsim.app.page`       the page (Solara ``Page`` component) and its event handlers
- :mod:`popsim.app.server`     the ``popsim app`` command: serve the page on localhost, offline
- :mod:`popsim.app.guard`      the ASGI middleware in front of Solara: refuse foreign hosts
  (DNS rebinding) and malformed requests with one log line, never a traceback

Only :mod:`~popsim.app.controls`, :mod:`~popsim.app.page`, :mod:`~popsim.app.guard` and the
serving path of :mod:`~popsim.app.server` import Solara, which comes with the ``app`` extra
(``pip install 'popsim[app]'``).
"""

"""``effekt app``: a local web page in front of the scenario files (issue 16).

The page is a front end to the files, never a second model: every choice becomes a scenario TOML
(:mod:`.form`), validated by :mod:`effekt.experiments.scenario` and run by
:func:`effekt.experiments.batch.run_batch` into a results directory like any ``effekt run``
(:mod:`.jobs`); the numbers shown come from the same summaries as the command line
(:mod:`.results`). :mod:`.server` serves the page and a small JSON API (Starlette; ``pip install
'effekt[app]'``); the page's script, style and plots are served from this package (``static/``), so
it works offline.
"""

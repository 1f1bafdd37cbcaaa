"""The national run: every kommune a scenario of its own, run as shards and summed to fylke and nation.

* :mod:`~effekt.experiments.national.kommuner`: the kommune data file (SSB Klass 131 numbers, names
  and fylker; population; people of working age outside work, each figure with its source or marked
  assumption: the shipped file splits an assumed 400 000 by population share);
* :mod:`~effekt.experiments.national.spec`: the national scenario file and its kommuner as the
  design points of one experiment;
* :mod:`~effekt.experiments.national.run`: the shards (kommune x replication chunk) on any executor,
  streamed to Parquet with a kommune column, resuming like any run;
* :mod:`~effekt.experiments.national.aggregate`: national, fylke and kommune budgets and KPIs;
* :mod:`~effekt.experiments.national.results`: a national results directory told apart, so that
  ``effekt report``, ``summary`` and ``export`` refuse it and point to the national outputs.

Nothing heavy is imported here: ``effekt national --help`` stays cheap.
"""

"""Answers for policy staff, computed from scenarios under common random numbers.

* :mod:`~effekt.experiments.analysis.breakeven`: the value of a number at which a party breaks even;
* :mod:`~effekt.experiments.analysis.sensitivity`: tornado, Morris and Sobol (SALib);
* :mod:`~effekt.experiments.analysis.power`: how large a pilot must be to show anything;
* :mod:`~effekt.experiments.analysis.compare`: scenarios side by side;
* :mod:`~effekt.experiments.analysis.decision`: is the contract worth signing under parameter
  uncertainty (acceptability curve), and what information (a parameter, a pilot) is worth before
  signing (EVPI, EVPPI, EVSI; the regression smoother in :mod:`~effekt.experiments.analysis.smoother`,
  the words in :mod:`~effekt.experiments.analysis.decision_report`);
* :mod:`~effekt.experiments.analysis.common`: scenarios with changed values, replications, rebuilding a
  scenario from a results directory.
"""

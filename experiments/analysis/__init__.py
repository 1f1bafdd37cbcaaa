"""Answers for policy staff, computed from scenarios under common random numbers.

* :mod:`~experiments.analysis.breakeven`: the value of a number at which a party breaks even;
* :mod:`~experiments.analysis.sensitivity`: tornado, Morris and Sobol (SALib);
* :mod:`~experiments.analysis.power`: how large a pilot must be to show anything;
* :mod:`~experiments.analysis.compare`: scenarios side by side;
* :mod:`~experiments.analysis.common`: scenarios with changed values, replications, rebuilding a
  scenario from a results directory.
"""

"""``effekt calibrate``: fit a pathway's uncertain numbers to published counts by ABC-SMC.

    load_calibration_file  a calibration file (pathway, uncertain numbers, published counts), validated
    build_model            the pathway model a calibration fits and the priors of its numbers
    calibrate              run the fit, the posterior predictive check and the held-out check
    write_posterior        the posterior as a data file ``{ calibrated = "name" }`` draws from
    abc_smc                the ABC-SMC machinery (any model with ``simulate(theta, seed) -> counts``)

Modules: :mod:`.spec` (the file format), :mod:`.measures` (what a published count counts),
:mod:`.model` (pathway -> simulated counts), :mod:`.abc_smc` (the method), :mod:`.posterior`
(the fit, its checks and the posterior file), :mod:`.report` (what is printed, nb and en).
"""

from effekt.experiments.calibrate.abc_smc import abc_smc, predictive
from effekt.experiments.calibrate.model import PathwayModel, build_model
from effekt.experiments.calibrate.spec import CalibrationFile, load_calibration_file

__all__ = ["CalibrationFile", "PathwayModel", "abc_smc", "build_model", "load_calibration_file", "predictive"]

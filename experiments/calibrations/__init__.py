"""The built-in calibrations: calibration files (``<name>.toml``, what ``effekt calibrate`` fits)
and the posteriors it wrote (``<name>.posterior.toml``).

Importing this package registers its folder as a folder of built-in posteriors
(:func:`effekt.priors.register_posterior_folder`), so that ``{ calibrated = "springbrett" }`` finds
them after the naming file's own ``calibrations/`` folder. The base layer (:mod:`effekt.priors`)
knows no folder of an upper layer; :mod:`effekt.experiments.scenario` imports this package.
"""

from __future__ import annotations

from pathlib import Path

from effekt.priors import register_posterior_folder

FOLDER = Path(__file__).resolve().parent
"""This folder: the built-in calibration and posterior files."""

register_posterior_folder(FOLDER)

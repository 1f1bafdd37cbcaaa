"""What ``effekt calibrate`` prints, in bokmål (``nb``) and English (``en``): the fit's
generations, the posterior (mean and 90 % credible interval per number), the posterior predictive
check of every fitted target, and the held-out targets, checked and reported separately."""

from __future__ import annotations

from effekt.experiments.calibrate.posterior import Calibration, Check, posterior_summary, predictive_check
from effekt.experiments.formatting import general, number

WORDS = {
    "en": {
        "fit": "Fit: {g} generations, {n} simulated studies, {p} particles; tolerances {tol} (counts)",
        "not_reached": "Warning: the last tolerance is {eps:g}, not the final {final:g}: more generations "
                       "(--generations) or a larger final tolerance",
        "posterior": "Posterior (mean, 90 % credible interval) and prior",
        "fitted": "Posterior predictive check, fitted targets ({n} studies simulated at posterior draws)",
        "held": "Held-out targets (not fitted: a test of the model)",
        "row": "{title}: published {count} of {of}; simulated {mean}, 90 % {low}-{high}; "
               "P(<= {count}) = {pl}, P(>= {count}) = {ph}{flag}",
        "flag": "  <- in the tail (two-sided p = {p})",
        "none": "(none)",
        "written": "Posterior written to {path}; use it as {{ calibrated = \"{name}\" }}",
    },
    "nb": {
        "fit": "Tilpasning: {g} generasjoner, {n} simulerte studier, {p} partikler; toleranser {tol} "
               "(antall)",
        "not_reached": "Advarsel: siste toleranse er {eps:g}, ikke den endelige {final:g}: flere "
                       "generasjoner (--generations) eller en større endelig toleranse",
        "posterior": "Posterior (gjennomsnitt, 90 % troverdighetsintervall) og prior",
        "fitted": "Prediktiv kontroll, tilpassede mål ({n} studier simulert ved trekninger fra posterioren)",
        "held": "Holdt utenfor (ikke tilpasset: en test av modellen)",
        "row": "{title}: publisert {count} av {of}; simulert {mean}, 90 % {low}-{high}; "
               "P(<= {count}) = {pl}, P(>= {count}) = {ph}{flag}",
        "flag": "  <- i halen (tosidig p = {p})",
        "none": "(ingen)",
        "written": "Posterioren er skrevet til {path}; bruk den som {{ calibrated = \"{name}\" }}",
    },
}


def _num(x: float, lang: str, decimals: int | None = None) -> str:
    """A number for people (:mod:`effekt.experiments.formatting`): ``decimals`` fixed, else three
    significant digits."""
    return general(x, lang, 3) if decimals is None else number(x, lang, decimals)


def _rows(cal: Calibration, checks: list[Check], lang: str) -> list[str]:
    w = WORDS[lang]
    if not checks:
        return ["  " + w["none"]]
    out = []
    for c in checks:
        title = getattr(cal.spec.targets[c.name].title, lang)
        flag = w["flag"].format(p=_num(c.p_value, lang, 2)) if c.p_value < 0.1 else ""
        out.append("  " + w["row"].format(
            title=title, count=c.count, of=c.of, mean=_num(c.mean, lang, 1), low=c.low, high=c.high,
            pl=_num(c.p_at_most, lang, 2), ph=_num(c.p_at_least, lang, 2), flag=flag))
    return out


def summary_lines(cal: Calibration, lang: str = "en") -> list[str]:
    """The printed summary of a calibration (see the module's docstring)."""
    w = WORDS[lang]
    res = cal.result
    tol = ", ".join("∞" if g.tolerance == float("inf") else f"{g.tolerance:g}" for g in res.generations)
    lines = [cal.spec.calibration.title.model_dump()[lang],
             w["fit"].format(g=len(res.generations), n=res.simulations, p=len(res.population.weights),
                             tol=tol)]
    if not res.reached:
        lines.append(w["not_reached"].format(eps=res.generations[-1].tolerance,
                                             final=cal.settings.get("tolerance", 0)))
    lines += ["", w["posterior"]]
    for row in posterior_summary(cal):
        lines.append(f"  {row['key']}: {_num(row['mean'], lang)} ({_num(row['low'], lang)}-"
                     f"{_num(row['high'], lang)}); prior {row['prior'].describe(lang)}")
    checks = predictive_check(cal)
    lines += ["", w["fitted"].format(n=cal.predictive.shape[0])]
    lines += _rows(cal, [c for c in checks if not c.held_out], lang)
    lines += ["", w["held"]]
    lines += _rows(cal, [c for c in checks if c.held_out], lang)
    return lines


__all__ = ["WORDS", "summary_lines"]

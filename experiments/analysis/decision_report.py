"""The words and the figure of ``effekt decide`` and of the pilot's value in ``effekt pilot-size``,
in Norwegian bokmål and English: :mod:`effekt.experiments.analysis.decision` computes, this
module only formats (Norwegian number formats in ``nb``: ``1 234 567``, ``41 %``, ``0,95``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from effekt.contracts import KpiRegistry, kpis_for_columns
from effekt.experiments.analysis.decision import (
    NOISE_SHARE_TARGET,
    OUTCOMES_PER,
    WORK_YEARS_PER,
    Draws,
    PilotValue,
    Results,
    fiscal_column,
    work_years_column,
)
from effekt.experiments.report_text import nok, number, pct

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "head": "Is it worth it for {who}? {out}: {draws} parameter draws x {reps} replications",
        "uncertain": "Uncertain: {keys}",
        "dropped": "({n} replications left out: not every draw has them; finish the run to use them)",
        "policy": "Policy: {values}",
        "nb_is": ("Net benefit (NB) = {whose} budget, NPV against the counterfactual with the outcome "
                  "payments in it, + λ per additional person {per}"),
        "per_outcomes": "= per additional primary outcome of the contract ({per})",
        "per_share": "in work by '{per}' ({label})",
        "nb_is_years": ("Net benefit (NB) = {whose} budget, NPV against the counterfactual {window} with "
                        "the outcome payments in it, + λ per additional person-year in work {window} "
                        "({col}; programme minus counterfactual, at the budgets' rate)"),
        "lambda_years": ("λ is per additional discounted person-year in work (not per person in work at "
                         "one month: --per in_work_24m gives that)."),
        "window_contract": "over the contract period",
        "window_long_run": "over the long run",
        "long_run_money": "Budget NPV {window} ({col}).",
        "unit_person": "person", "unit_year": "person-year", "unit_outcome": "outcome",
        "fig_x_years": "Willingness to pay per additional person-year in work ({cur})",
        "fig_x_outcome": "Willingness to pay per additional primary outcome ({cur})",
        "who_public": "the public purse (every public budget)",
        "whose_public": "every public",
        "col_wtp": "λ ({cur}/{unit})", "col_nb": "E[NB] ({cur})", "col_p": "P(worth it)",
        "col_luck": "P(this kull)", "col_evpi": "EVPI ({cur})", "col_ci": "95 % interval",
        "col_pp": "EVPI per participant", "col_noise": "luck share",
        "p_means": ("P(worth it): share of the parameter draws whose expected NB (mean over the "
                    "replications, with the luck left in it taken out) is above 0."),
        "p_luck": ("P(this kull): share of all draws x replications with NB above 0, the chance that "
                   "one kull, run once, ends in the black (parameter uncertainty and luck together)."),
        "evpi_is": ("EVPI: what knowing every uncertain number exactly before signing would be worth, "
                    "E[max(NB, 0)] - max(E[NB], 0), per contract (all its kull) and per participant; "
                    "corrected for the luck left in the per-draw means."),
        "noise": ("Luck in the per-draw means: at λ = {wtp} it is {share} of their variance (EVPI "
                  "{raw} before the correction); about {need} replications per draw would bring it "
                  "below {target}."),
        "noise_all": ("Luck in the per-draw means: at λ = {wtp} it accounts for all of the spread "
                      "between draws, so with these replications the draws cannot be told apart "
                      "(EVPI 0 after the correction); run many more replications per draw."),
        "noise_unknown": ("One replication per draw: the luck in the per-draw means cannot be "
                          "estimated, so EVPI is not corrected for it (run 2 or more replications)."),
        "evppi_head": "Which number is worth measuring: EVPPI at λ = {wtp} ({why})",
        "why_max": "where EVPI is largest",
        "why_given": "as asked",
        "col_param": "parameter", "col_evppi": "EVPPI ({cur})", "col_share": "share of EVPI",
        "evppi_is": ("EVPPI: the most it is worth paying to learn that number exactly before "
                     "signing (Strong, Oakley & Brennan 2014, regression method); a pilot learns "
                     "only part of it."),
        "no_draws": ("EVPI and EVPPI need parameter uncertainty: these results have {why}. Run "
                     "design points that draw the uncertain numbers: [design.uncertainties] in the "
                     "scenario with 'effekt sweep', or its files' priors with 'effekt run --draws N'."),
        "no_draws_none": "no uncertain parameters (every design point is a policy or there is one)",
        "no_draws_one": "only one parameter draw",
        "luck_only": "Without parameter draws the probability is over the replications' luck only.",
        "pilot_head": "Value of a pilot before signing, at λ = {wtp} ({measure}):",
        "pilot": ("  {n} in the programme{controls}: EVSI {evsi} {cur} (95 % {low} to {high}); "
                  "ceiling for this measure {ceiling}, EVPI {evpi}"),
        "controls": " and {n} controls",
        "pilot_alone": " (no control group)",
        "pilot_is": ("EVSI: what the pilot's result is expected to be worth to the decision; run it "
                     "if it costs less. The ceiling is the EVPPI of the shares it measures."),
        "pilot_none": "Value of a pilot: {why}",
        "too_few": "{draws} draws are too few for a regression on {k} number(s); run at least 30 per number",
        "no_shares": "the results lack the shares of '{measure}' that a pilot would count",
        "investor": ("Investor: P(loss) {loss} (95 % CI {lo} to {hi}{draws}); money multiple mean "
                     "{mean} (90 % of draws x replications {p5} to {p95}{mdraws})"),
        "loss_draws": "; across draws {p5} to {p95}",
        "mult_draws": "; per-draw mean {p5} to {p95}",
        "fig_p": "P(worth it)", "fig_luck": "P(this kull)", "fig_evpi": "EVPI ({cur})",
        "fig_x": "Willingness to pay per additional person in work ({cur})",
        "saved": "Figure written to {path}",
    },
    "nb": {
        "head": "Lønner det seg for {who}? {out}: {draws} parametertrekk x {reps} replikasjoner",
        "uncertain": "Usikre tall: {keys}",
        "dropped": "({n} replikasjoner utelatt: ikke alle trekk har dem; fullfør kjøringen for å bruke dem)",
        "policy": "Valg: {values}",
        "nb_is": ("Netto nytte (NN) = budsjettet til {whose}, nåverdi mot det kontrafaktiske med "
                  "resultatbetalingene i, + λ per ekstra person {per}"),
        "per_outcomes": "= per ekstra primærresultat i kontrakten ({per})",
        "per_share": "i arbeid etter '{per}' ({label})",
        "nb_is_years": ("Netto nytte (NN) = budsjettet til {whose}, nåverdi mot det kontrafaktiske {window} "
                        "med resultatbetalingene i, + λ per ekstra personår i arbeid {window} ({col}; med "
                        "tiltaket minus uten, med budsjettenes rente)"),
        "lambda_years": ("λ er per ekstra diskontert personår i arbeid (ikke per person i arbeid i én "
                         "måned: --per in_work_24m gir det)."),
        "window_contract": "i kontraktsperioden",
        "window_long_run": "på lang sikt",
        "long_run_money": "Budsjettets nåverdi {window} ({col}).",
        "unit_person": "person", "unit_year": "personår", "unit_outcome": "resultat",
        "fig_x_years": "Betalingsvilje per ekstra personår i arbeid ({cur})",
        "fig_x_outcome": "Betalingsvilje per ekstra primærresultat ({cur})",
        "who_public": "det offentlige (alle offentlige budsjetter)",
        "whose_public": "alle offentlige",
        "col_wtp": "λ ({cur}/{unit})", "col_nb": "E[NN] ({cur})", "col_p": "P(lønner seg)",
        "col_luck": "P(dette kullet)", "col_evpi": "EVPI ({cur})", "col_ci": "95 %-intervall",
        "col_pp": "EVPI per deltaker", "col_noise": "andel flaks",
        "p_means": ("P(lønner seg): andelen av parametertrekkene der forventet NN (gjennomsnitt over "
                    "replikasjonene, med flaksen som er igjen i det tatt ut) er over 0."),
        "p_luck": ("P(dette kullet): andelen av alle trekk x replikasjoner med NN over 0, sjansen for "
                   "at ett kull, kjørt én gang, går i pluss (parameterusikkerhet og flaks sammen)."),
        "evpi_is": ("EVPI: hva det ville vært verdt å kjenne alle de usikre tallene før man signerer, "
                    "E[maks(NN, 0)] - maks(E[NN], 0), per kontrakt (alle kull) og per deltaker; "
                    "korrigert for flaksen som er igjen i snittet per trekk."),
        "noise": ("Flaks i snittet per trekk: ved λ = {wtp} er den {share} av variansen (EVPI {raw} "
                  "før korreksjonen); om lag {need} replikasjoner per trekk ville gitt under {target}."),
        "noise_all": ("Flaks i snittet per trekk: ved λ = {wtp} forklarer den hele spredningen mellom "
                      "trekkene, så med disse replikasjonene kan trekkene ikke skilles fra hverandre "
                      "(EVPI 0 etter korreksjonen); kjør mange flere replikasjoner per trekk."),
        "noise_unknown": ("Én replikasjon per trekk: flaksen i snittet per trekk kan ikke anslås, så "
                          "EVPI er ikke korrigert for den (kjør 2 eller flere replikasjoner)."),
        "evppi_head": "Hvilket tall er verdt å måle: EVPPI ved λ = {wtp} ({why})",
        "why_max": "der EVPI er størst",
        "why_given": "som bedt om",
        "col_param": "parameter", "col_evppi": "EVPPI ({cur})", "col_share": "andel av EVPI",
        "evppi_is": ("EVPPI: det meste det er verdt å betale for å kjenne det tallet nøyaktig før man "
                     "signerer (Strong, Oakley & Brennan 2014, regresjonsmetoden); en pilot lærer bare "
                     "en del av det."),
        "no_draws": ("EVPI og EVPPI krever parameterusikkerhet: disse resultatene har {why}. Kjør "
                     "designpunkter som trekker de usikre tallene: [design.uncertainties] i scenariet "
                     "med 'effekt sweep', eller a priori-fordelingene i filene med 'effekt run --draws N'."),
        "no_draws_none": "ingen usikre parametere (hvert designpunkt er et valg, eller det er bare ett)",
        "no_draws_one": "bare ett parametertrekk",
        "luck_only": "Uten parametertrekk er sannsynligheten bare over replikasjonenes flaks.",
        "pilot_head": "Verdien av en pilot før man signerer, ved λ = {wtp} ({measure}):",
        "pilot": ("  {n} i tiltaket{controls}: EVSI {evsi} {cur} (95 % {low} til {high}); tak for "
                  "dette målet {ceiling}, EVPI {evpi}"),
        "controls": " og {n} i kontrollgruppen",
        "pilot_alone": " (uten kontrollgruppe)",
        "pilot_is": ("EVSI: hva pilotens resultat forventes å være verdt for beslutningen; kjør den "
                     "hvis den koster mindre. Taket er EVPPI for andelene den måler."),
        "pilot_none": "Verdien av en pilot: {why}",
        "too_few": "{draws} trekk er for få for en regresjon på {k} tall; kjør minst 30 per tall",
        "no_shares": "resultatene mangler andelene for '{measure}' som en pilot ville telle",
        "investor": ("Investorene: P(tap) {loss} (95 % KI {lo} til {hi}{draws}); pengemultippel snitt "
                     "{mean} (90 % av trekk x replikasjoner {p5} til {p95}{mdraws})"),
        "loss_draws": "; på tvers av trekk {p5} til {p95}",
        "mult_draws": "; snitt per trekk {p5} til {p95}",
        "fig_p": "P(lønner seg)", "fig_luck": "P(dette kullet)", "fig_evpi": "EVPI ({cur})",
        "fig_x": "Betalingsvilje per ekstra person i arbeid ({cur})",
        "saved": "Figuren er skrevet til {path}",
    },
}
"""Every sentence and column head of the decision output, in English and bokmål."""

PARTY_WORDS = {"en": {"kommune": "the kommune", "state": "the state"},
               "nb": {"kommune": "kommunen", "state": "staten", "fylke": "fylkeskommunen"}}


def wtp_text(value: float, lang: str) -> str:
    """A willingness to pay as the user chose it (``1 250 000``), to the krone: a value of the grid
    is an input, not an estimate, and rounding it as money (``1,3 mill.``) would name another
    grid point."""
    from effekt.experiments.formatting import number as exact

    return exact(float(value), lang, 0, unicode_minus=True)


def words(lang: str) -> dict[str, str]:
    """The sentences in ``lang`` (en or nb)."""
    if lang not in WORDS:
        raise ValueError(f"language '{lang}'; allowed: {', '.join(WORDS)}")
    return WORDS[lang]


def _who(commissioner: str, lang: str) -> str:
    return words(lang)["who_public"] if commissioner == "public" else PARTY_WORDS[lang].get(commissioner,
                                                                                              commissioner)


def _whose(commissioner: str, lang: str) -> str:
    if commissioner == "public":
        return words(lang)["whose_public"]
    who = _who(commissioner, lang)
    return who if lang == "nb" else f"{who}'s"


def _per(res: Results, lang: str) -> str:
    w = words(lang)
    if res.per == OUTCOMES_PER:
        return w["per_outcomes"].format(per=res.per)
    reg = res.runs.attrs.get("kpis")
    label = res.per
    if reg is not None:
        try:
            label = reg.at(res.per, arm="treatment").label(lang)
        except KeyError:
            pass
    return w["per_share"].format(per=res.per, label=label)


def _interval(lo: float, hi: float, lang: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    return f"{nok(lo, lang)} – {nok(hi, lang)}"


def policy_label(d: Draws) -> str:
    """The policy's lever and sweep values, ``key = value, ...`` (empty without levers)."""
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in d.policy.items())


def header(res: Results, d: Draws, lang: str) -> list[str]:
    """The lines above a policy's table: what was read, what is uncertain, what NB is."""
    w = words(lang)
    lines = [w["head"].format(who=_who(res.commissioner, lang), out=res.out, draws=d.n, reps=d.replications)]
    if d.dropped:
        lines.append(w["dropped"].format(n=d.dropped))
    if d.policy:
        lines.append(w["policy"].format(values=policy_label(d)))
    if res.uncertain:
        lines.append(w["uncertain"].format(keys=", ".join(res.uncertain)))
    window = w[f"window_{res.horizon}"]
    if res.per == WORK_YEARS_PER:
        lines.append(w["nb_is_years"].format(whose=_whose(res.commissioner, lang), window=window,
                                             col=_kpi_label(res, work_years_column(res.horizon), lang)))
        lines.append(w["lambda_years"])
    else:
        lines.append(w["nb_is"].format(whose=_whose(res.commissioner, lang), per=_per(res, lang)))
        if res.horizon != "contract":
            lines.append(w["long_run_money"].format(window=window, col=_kpi_label(res, fiscal_column(
                res.commissioner, _registry(res), res.runs.columns, res.horizon), lang)))
    return lines


def _registry(res: Results) -> KpiRegistry:
    """The KPI declarations of the results' runs (as stored, or read from the column names)."""
    return res.runs.attrs.get("kpis") or kpis_for_columns(res.runs.columns)


def _kpi_label(res: Results, name: str, lang: str) -> str:
    """The label of KPI ``name`` in ``lang`` (its first letter small, inside a sentence): the words
    a reader sees rather than the column's key; the key itself for a column no contract declares."""
    label = _registry(res).label(name, lang)
    return label[:1].lower() + label[1:] if label != name else name


def per_unit(res: Results, lang: str) -> str:
    """What one unit of λ's measure is, for the column head: a person-year, a person, an outcome."""
    w = words(lang)
    if res.per == WORK_YEARS_PER:
        return w["unit_year"]
    return w["unit_outcome"] if res.per == OUTCOMES_PER else w["unit_person"]


def per_axis(res: Results, lang: str) -> str:
    """The figure's x axis label for ``res``'s measure (``{cur}`` left to fill)."""
    w = words(lang)
    if res.per == WORK_YEARS_PER:
        return w["fig_x_years"]
    return w["fig_x_outcome"] if res.per == OUTCOMES_PER else w["fig_x"]


def curve_table(curve: pd.DataFrame, lang: str, currency: str, luck: bool, draws: bool,
                unit: str | None = None) -> str:
    """The acceptability curve and EVPI by lambda as aligned text; ``unit``: what λ is per
    (:func:`per_unit`; default a person)."""
    w = words(lang)
    unit = unit if unit is not None else w["unit_person"]
    cols = {w["col_wtp"].format(cur=currency, unit=unit): curve["wtp"].map(lambda v: wtp_text(v, lang)),
            w["col_nb"].format(cur=currency): curve["mean_nb"].map(lambda v: nok(v, lang))}
    if draws:
        cols[w["col_p"]] = curve["p_worth"].map(lambda v: pct(v, lang))
    if luck or not draws:
        cols[w["col_luck"]] = curve["p_worth_luck"].map(lambda v: pct(v, lang))
    if draws:
        cols[w["col_evpi"].format(cur=currency)] = curve["evpi"].map(lambda v: nok(v, lang))
        if "evpi_low" in curve:
            bounds = zip(curve["evpi_low"], curve["evpi_high"], strict=True)
            cols[w["col_ci"]] = [_interval(lo, hi, lang) for lo, hi in bounds]
        cols[w["col_pp"]] = curve["evpi_per_participant"].map(lambda v: nok(v, lang))
        cols[w["col_noise"]] = curve["noise_share"].map(lambda v: pct(v, lang))
    return pd.DataFrame(cols).to_string(index=False)


def curve_notes(curve: pd.DataFrame, lang: str, luck: bool, draws: bool) -> list[str]:
    """What the columns mean, and the warning about luck in the per-draw means."""
    w = words(lang)
    if not draws:
        return [w["luck_only"]]
    lines = [w["p_means"]]
    if luck:
        lines.append(w["p_luck"])
    lines.append(w["evpi_is"])
    share = curve["noise_share"].to_numpy(float)
    if not np.isfinite(share).any():
        lines.append(w["noise_unknown"])
        return lines
    value = curve["evpi"].to_numpy(float)
    i = int(np.nanargmax(value)) if np.nanmax(value) > 0 else int(np.nanargmax(share))
    need = curve["replications_needed"].iloc[i]
    if not np.isfinite(need):  # nothing of the draws' spread is left once the luck is out
        lines.append(w["noise_all"].format(wtp=wtp_text(curve["wtp"].iloc[i], lang)))
    elif share[i] > NOISE_SHARE_TARGET:
        lines.append(w["noise"].format(wtp=wtp_text(curve["wtp"].iloc[i], lang), share=pct(share[i], lang),
                                       raw=nok(curve["evpi_raw"].iloc[i], lang),
                                       need=nok(need, lang),
                                       target=pct(NOISE_SHARE_TARGET, lang)))
    return lines


def evppi_lines(table: pd.DataFrame, wtp: float, given: bool, lang: str, currency: str,
                participants: float) -> list[str]:
    """The EVPPI table at one lambda, largest first."""
    w = words(lang)
    t = table[np.isclose(table["wtp"], wtp)].sort_values("evppi", ascending=False)
    body = pd.DataFrame({
        w["col_param"]: t["parameter"],
        w["col_evppi"].format(cur=currency): t["evppi"].map(lambda v: nok(v, lang)),
        w["col_ci"]: [_interval(lo, hi, lang) for lo, hi in zip(t["low"], t["high"], strict=True)],
        w["col_pp"]: (t["evppi"] / participants).map(lambda v: nok(v, lang)),
        w["col_share"]: t["share_of_evpi"].map(lambda v: pct(v, lang)),
    })
    if body[w["col_ci"]].eq("").all():
        body = body.drop(columns=w["col_ci"])
    head = w["evppi_head"].format(wtp=wtp_text(wtp, lang), why=w["why_given"] if given else w["why_max"])
    return [head, body.to_string(index=False), w["evppi_is"]]


def no_draws_line(d: Draws, lang: str) -> str:
    """Why there is no EVPI for these results."""
    w = words(lang)
    return w["no_draws"].format(why=w["no_draws_none"] if d.params.shape[1] == 0 else w["no_draws_one"])


def pilot_lines(values: Sequence[PilotValue], lang: str, currency: str, measure: str) -> list[str]:
    """One line per pilot size and design, under a heading."""
    w = words(lang)
    if not values:
        return []
    lines = [w["pilot_head"].format(wtp=wtp_text(values[0].wtp, lang), measure=measure)]
    for v in values:
        controls = w["controls"].format(n=v.n) if v.design == "two-arm" else w["pilot_alone"]
        lines.append(w["pilot"].format(n=v.n, controls=controls, evsi=nok(v.evsi, lang), cur=currency,
                                       low=nok(v.low, lang), high=nok(v.high, lang),
                                       ceiling=nok(v.ceiling, lang), evpi=nok(v.evpi, lang)))
    lines.append(w["pilot_is"])
    return lines


def investor_line(risk: dict[str, float], lang: str) -> list[str]:
    """P(loss) and the money multiple, over draws and replications."""
    if "loss_mean" not in risk or "multiple_mean" not in risk:
        return []
    w = words(lang)
    draws = (w["loss_draws"].format(p5=pct(risk["loss_draws_p5"], lang),
                                    p95=pct(risk["loss_draws_p95"], lang))
             if "loss_draws_p5" in risk else "")
    mdraws = (w["mult_draws"].format(p5=number(risk["multiple_draws_p5"], lang, 2),
                                     p95=number(risk["multiple_draws_p95"], lang, 2))
              if "multiple_draws_p5" in risk else "")
    return [w["investor"].format(loss=pct(risk["loss_mean"], lang), lo=pct(risk["loss_ci_low"], lang),
                                 hi=pct(risk["loss_ci_high"], lang), draws=draws,
                                 mean=number(risk["multiple_mean"], lang, 2),
                                 p5=number(risk["multiple_p5"], lang, 2),
                                 p95=number(risk["multiple_p95"], lang, 2), mdraws=mdraws)]


def plot(curves: Sequence[tuple[str, pd.DataFrame]], path: str | Path, lang: str, currency: str,
         luck: bool, x_label: str | None = None) -> Path:
    """The acceptability curves (top) and EVPI (bottom, with its bootstrap interval) against the
    willingness to pay, one line per policy, as a PNG at ``path``; ``x_label`` (:func:`per_axis`,
    ``{cur}`` to fill; default per additional person in work)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    w = words(lang)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True)
    for label, c in curves:
        line, = top.plot(c["wtp"], c["p_worth"], label=f"{label}: {w['fig_p']}" if label else w["fig_p"])
        if luck:
            top.plot(c["wtp"], c["p_worth_luck"], ls="--", color=line.get_color(),
                     label=f"{label}: {w['fig_luck']}" if label else w["fig_luck"])
        bottom.plot(c["wtp"], c["evpi"], color=line.get_color())
        if "evpi_low" in c:
            bottom.fill_between(c["wtp"], c["evpi_low"], c["evpi_high"], color=line.get_color(), alpha=0.2)
    top.set_ylim(0, 1)
    top.yaxis.set_major_formatter(PercentFormatter(1.0))
    top.set_ylabel(w["fig_p"])
    bottom.set_ylabel(w["fig_evpi"].format(cur=currency))
    bottom.set_xlabel((x_label or w["fig_x"]).format(cur=currency))
    money = FuncFormatter(lambda v, _: nok(v, lang))
    bottom.yaxis.set_major_formatter(money)
    bottom.xaxis.set_major_formatter(money)
    if any(label for label, _ in curves) or luck:
        top.legend(fontsize=8)
    for ax in (top, bottom):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(alpha=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path

"""Words of the report in Norwegian bokmål and English, and number formats for each.

Kept apart from the figures and the HTML so a translator edits one table.
"""

from __future__ import annotations

import math

from effekt.experiments import formatting

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Simulated outcome contract",
        "summary": "Summary",
        "what": "What was simulated",
        "key": "Key numbers",
        "caveats": "Caveats",
        "figures": "Figures",
        "funnel": "How the cohort flows through the pathway (mean people per replication)",
        "funnel_x": "people (mean over replications)",
        "funnel_note": "Every stage, in the order people meet it (mean people who reached it): {stages}.",
        "in_work": "Share in work by month since entry",
        "in_work_y": "share in work",
        "months": "months since entry",
        "month": "month",
        "treatment": "with the programme",
        "control": "without it (counterfactual)",
        "band90": "90 % of replications",
        "payments": "Outcome payments over time",
        "payments_y": "{unit} (mean per month)",
        "payments_cum_y": "{unit}, cumulative",
        "payments_cum": "cumulative (right axis)",
        "irr": "Distribution of the investor's IRR",
        "irr_x": "IRR per year",
        "irr_y": "replications",
        "loss": "probability of loss",
        "ci": "CI",
        "undefined": "IRR undefined (why: see the key numbers)",
        "cash": "Cumulative cashflow by party (mean over replications)",
        "cash_y": "{unit}, cumulative",
        "fiscal": ("Public budgets: net present value for each public party "
                   "(kommune, other kommuner, fylke, state)"),
        "fiscal_y": "NPV, {unit}",
        "fiscal_gain": "savings and taxes",
        "fiscal_paid": "outcome payments",
        "fiscal_net": "net",
        "tornado": "Most influential parameters (one at a time, low and high value)",
        "tornado_x": "mean {out} (vertical line: the scenario as it is)",
        "sobol": "Global sensitivity (Sobol): share of the variance of {out} due to each parameter",
        "sobol_x": "S1: alone; ST: with its interactions (95 % CI)",
        "morris": ("Screening (Morris): average effect on {out} of moving each parameter across "
                   "its range"),
        "morris_x": "\u03bc*: mean absolute effect (95 % CI); \u03c3: how much it varies",
        "low": "low value",
        "high": "high value",
        "compare": "Scenarios side by side (common random numbers)",
        "kommune": "kommune",
        "state": "state",
        "fylke": "fylke",
        "other_kommuner": "other kommuner",
        "total": "total",
        "investor": "investor",
        "provider": "provider",
        "no_ts": "Time series and funnel left out: {why}",
        "design_line": ("Evaluation design: {design}. The contract paid for {paid} primary outcomes "
                        "(\u201c{what}\u201d) per replication on average; the design measured "
                        "{measured} as additional."),
        "true_line": ("Truly additional, against the same people without the programme: {true} "
                      "(95 % CI {lo} to {hi})."),
        "not_additional_line": "{share} of the outcomes paid for were not additional.",
        "true_none": "The true effect is unknown: no counterfactual arm was simulated.",
        "bias_randomised": ("Evaluation design: a randomised control group. It measures the effect "
                            "without bias; only chance separates it from the truth."),
        "bias_matched": ("Evaluation design: a comparison group matched on what the registers show "
                         "(age, group, education, benefit, entry). Who takes part also depends on what "
                         "they do not show (motivation, employability): a pathway that picks the most "
                         "employable makes the comparison overstate the effect, and the contract pays "
                         "for jobs people would have got anyway."),
        "bias_historical": ("Evaluation design: a fixed baseline from earlier years ({source}). It is "
                            "biased whenever this cohort or this labour market differs from those years: "
                            "a boom, or easier referrals, is paid for as an effect."),
        "bias_gross": ("Evaluation design: no comparison (gross outcomes, as the DWP Innovation Fund "
                       "paid). Every outcome is paid as if it would not have happened anyway, so the "
                       "deadweight is paid for in full, and a programme that makes things worse can "
                       "still earn payments."),
        "drift": ("The time series and the funnel were simulated again with this version of effekt "
                  "and do not reproduce the stored results exactly: the model has changed since "
                  "the results were produced. The key numbers are from the stored results."),
        "people": "people",
        "replications": "replications",
        # keyed by the in-work KPIs' declared measure (effekt.contracts.Kpi.measure)
        "in_work_12m": "in work 12 months after start",
        "in_work_24m": "in work 24 months after start",
        "in_ordinary_work_12m": "in ordinary work 12 months after start",
        "in_ordinary_work_24m": "in ordinary work 24 months after start",
        "in_work_or_education_12m": "in work or education 12 months after start",
        "in_work_or_education_24m": "in work or education 24 months after start",
        "ordinary": "in ordinary work",
        "ordinary_note": ("Dashed: in ordinary work, not counting the programme's own jobs (project "
                          "positions and wage-subsidised jobs in the pathway)."),
        "what_text": ("{n} people referred to the pathway \u201c{pathway}\u201d, under the contract "
                      "\u201c{contract}\u201d, followed for {years} years; {reps} replications "
                      "(Monte Carlo runs) with different random draws. Counterfactual: {cf}."),
        "cf_parallel": "the same people under business as usual",
        "cf_rct": "a randomised control group",
        "cf_none": "none",
        "work_line": ("{what}: {t} with the programme and {c} without it; "
                      "difference {d} percentage points (95 % CI {lo} to {hi})."),
        "pay_line": "Outcome payments: {mean} NOK on average (90 % of replications {p5} to {p95}).",
        "fiscal_line": ("Public budgets, NPV net of outcome payments: {parts} NOK "
                        "(mean; 90 % of replications for the total {p5} to {p95})."),
        "offset_line": ("Displacement ({d} of the additional work) and substitution ({s} of the "
                        "subsidised job time) take {lost} NOK (NPV, mean) of the taxes, benefits saved "
                        "and earnings the programme's jobs bring: the public budgets in all {gross} NOK "
                        "before, {net} NOK after (the figures above are after)."),
        "work_line_only": ("{what}: {t} with the programme (no "
                           "counterfactual arm to compare with)."),
        "mc_caveat": ("The ranges show chance alone (who is referred, who drops out, who finds "
                      "work) with the parameters fixed at their values; uncertainty about the "
                      "parameters themselves shows in the sensitivity analysis, not here."),
        "cf_caveat": ("Everything depends on the counterfactual: how many would have found work "
                      "anyway. It is an assumption unless calibrated to a control group."),
        "generated": "Made by effekt {version} from {dir}.",
        "scenario": "scenario",
        "kpi": "key figure",
        "mean": "mean",
    },
    "nb": {
        "title": "Simulert effektkontrakt",
        "summary": "Sammendrag",
        "what": "Hva er simulert",
        "key": "Nøkkeltall",
        "caveats": "Forbehold",
        "figures": "Figurer",
        "funnel": "Hvordan kullet går gjennom løpet (gjennomsnittlig antall personer per replikasjon)",
        "funnel_x": "personer (gjennomsnitt over replikasjoner)",
        "funnel_note": ("Alle trinn, i den rekkefølgen deltakerne møter dem (gjennomsnittlig antall som "
                        "nådde trinnet): {stages}."),
        "in_work": "Andel i arbeid etter måneder siden oppstart",
        "in_work_y": "andel i arbeid",
        "months": "måneder siden oppstart",
        "month": "måned",
        "treatment": "med tiltaket",
        "control": "uten tiltaket (kontrafaktisk)",
        "band90": "90 % av replikasjonene",
        "payments": "Utbetalinger for resultater over tid",
        "payments_y": "{unit} (gjennomsnitt per måned)",
        "payments_cum_y": "{unit}, akkumulert",
        "payments_cum": "akkumulert (høyre akse)",
        "irr": "Fordeling av investors internrente (IRR)",
        "irr_x": "internrente per år",
        "irr_y": "replikasjoner",
        "loss": "sannsynlighet for tap",
        "ci": "KI",
        "undefined": "IRR udefinert (hvorfor: se nøkkeltallene)",
        "cash": "Akkumulert kontantstrøm per part (gjennomsnitt over replikasjoner)",
        "cash_y": "{unit}, akkumulert",
        "fiscal": ("Offentlige budsjetter: nåverdi for hver offentlig part "
                   "(kommunen, andre kommuner, fylket, staten)"),
        "fiscal_y": "nåverdi, {unit}",
        "fiscal_gain": "innsparing og skatt",
        "fiscal_paid": "utbetalinger for resultater",
        "fiscal_net": "netto",
        "tornado": "De mest innflytelsesrike parameterne (én om gangen, lav og høy verdi)",
        "tornado_x": "gjennomsnittlig {out} (loddrett linje: scenarioet slik det er)",
        "sobol": "Global sensitivitet (Sobol): andel av variansen i {out} som skyldes hver parameter",
        "sobol_x": "S1: alene; ST: med samspill (95 % KI)",
        "morris": ("Screening (Morris): gjennomsnittlig effekt på {out} av å flytte hver parameter "
                   "over sitt spenn"),
        "morris_x": "\u03bc*: gjennomsnittlig absolutt effekt (95 % KI); \u03c3: hvor mye den varierer",
        "low": "lav verdi",
        "high": "høy verdi",
        "compare": "Scenarier side om side (felles tilfeldige tall)",
        "kommune": "kommune",
        "state": "stat",
        "fylke": "fylkeskommune",
        "other_kommuner": "andre kommuner",
        "total": "totalt",
        "investor": "investor",
        "provider": "leverandør",
        "no_ts": "Tidsserier og trakt er utelatt: {why}",
        "design_line": ("Evalueringsdesign: {design}. Kontrakten betalte for {paid} primærresultater "
                        "(«{what}») per replikasjon i gjennomsnitt; designet målte {measured} som "
                        "ekstra."),
        "true_line": ("Faktisk ekstra, mot de samme personene uten tiltaket: {true} "
                      "(95 % KI {lo} til {hi})."),
        "not_additional_line": "{share} av resultatene det ble betalt for, var ikke ekstra.",
        "true_none": "Den faktiske effekten er ukjent: ingen kontrafaktisk gruppe ble simulert.",
        "bias_randomised": ("Evalueringsdesign: en randomisert kontrollgruppe. Den måler effekten uten "
                            "skjevhet; bare tilfeldigheter skiller den fra den faktiske effekten."),
        "bias_matched": ("Evalueringsdesign: en sammenligningsgruppe matchet på det registrene viser "
                         "(alder, gruppe, utdanning, stønad, oppstart). Hvem som deltar, avhenger også "
                         "av det de ikke viser (motivasjon, jobbsjanser): et løp som velger de mest "
                         "jobbklare, får sammenligningen til å overdrive effekten, og kontrakten betaler "
                         "for jobber folk ville fått uansett."),
        "bias_historical": ("Evalueringsdesign: en fast referanse fra tidligere år ({source}). Den er "
                            "skjev når dette kullet eller arbeidsmarkedet er annerledes enn de årene: "
                            "en høykonjunktur, eller lettere henvisninger, betales som effekt."),
        "bias_gross": ("Evalueringsdesign: ingen sammenligning (bruttoresultater, slik DWP Innovation "
                       "Fund betalte). Hvert resultat betales som om det ikke ville skjedd uansett, så "
                       "dødvekten betales fullt ut, og et tiltak som gjør det verre, kan likevel tjene "
                       "penger."),
        "drift": ("Tidsseriene og trakten er simulert på nytt med denne versjonen av effekt og "
                  "gjenskaper ikke de lagrede resultatene nøyaktig: modellen er endret siden "
                  "resultatene ble laget. Nøkkeltallene er fra de lagrede resultatene."),
        "people": "personer",
        "replications": "replikasjoner",
        "in_work_12m": "i arbeid 12 måneder etter oppstart",
        "in_work_24m": "i arbeid 24 måneder etter oppstart",
        "in_ordinary_work_12m": "i ordinært arbeid 12 måneder etter oppstart",
        "in_ordinary_work_24m": "i ordinært arbeid 24 måneder etter oppstart",
        "in_work_or_education_12m": "i arbeid eller utdanning 12 måneder etter oppstart",
        "in_work_or_education_24m": "i arbeid eller utdanning 24 måneder etter oppstart",
        "ordinary": "i ordinært arbeid",
        "ordinary_note": ("Stiplet: i ordinært arbeid, uten tiltakets egne jobber (prosjektstillinger "
                          "og jobber med lønnstilskudd i løpet)."),
        "what_text": ("{n} personer henvist til løpet «{pathway}», under kontrakten «{contract}», "
                      "fulgt i {years} år; {reps} replikasjoner (Monte Carlo-kjøringer) med "
                      "ulike tilfeldige trekk. Kontrafaktisk: {cf}."),
        "cf_parallel": "de samme personene uten tiltaket",
        "cf_rct": "en randomisert kontrollgruppe",
        "cf_none": "ingen",
        "work_line": ("{what}: {t} med tiltaket og {c} uten; "
                      "forskjell {d} prosentpoeng (95 % KI {lo} til {hi})."),
        "pay_line": ("Utbetalinger for resultater: {mean} kr i gjennomsnitt (90 % av replikasjonene "
                     "{p5} til {p95})."),
        "fiscal_line": ("Offentlige budsjetter, nåverdi etter utbetalinger: {parts} kr "
                        "(gjennomsnitt; 90 % av replikasjonene for totalen {p5} til {p95})."),
        "offset_line": ("Fortrengning ({d} av det ekstra arbeidet) og substitusjon ({s} av tiden i "
                        "jobber med lønnstilskudd) tar {lost} kr (nåverdi, gjennomsnitt) av skatten, "
                        "de sparte stønadene og inntekten tiltakets jobber gir: offentlige budsjetter "
                        "i alt {gross} kr før, {net} kr etter (tallene over er etter)."),
        "work_line_only": ("{what}: {t} med tiltaket (ingen "
                           "kontrafaktisk gruppe å sammenligne med)."),
        "mc_caveat": ("Intervallene viser bare tilfeldig variasjon (hvem som henvises, hvem som "
                      "faller fra, hvem som får jobb) med parameterne holdt fast; usikkerhet om "
                      "selve parameterne vises i sensitivitetsanalysen, ikke her."),
        "cf_caveat": ("Alt avhenger av det kontrafaktiske: hvor mange som ville fått jobb uansett. "
                      "Det er en antakelse med mindre det er kalibrert mot en kontrollgruppe."),
        "generated": "Laget av effekt {version} fra {dir}.",
        "scenario": "scenario",
        "kpi": "nøkkeltall",
        "mean": "gjennomsnitt",
    },
}


def pct(x: float, lang: str, digits: int = 0) -> str:
    """A share as a percentage (``41 %``; ``41,5 %`` in bokmål), typeset
    (:func:`effekt.experiments.formatting.percent`)."""
    return formatting.percent(x, lang, digits, unicode_minus=True)


def nok(x: float, lang: str, like: float | None = None) -> str:
    """An amount rounded to what the model can know, without the currency, which the sentence
    or the column names (``3,6 mill.``, ``358 000``; :func:`effekt.experiments.formatting.money`);
    ``like``: round at the step of this amount (a mean and its range in one scale)."""
    return formatting.money(x, lang, unit=False, unicode_minus=True, like=like)


def largest(*values: float) -> float | None:
    """The largest finite absolute value of ``values`` (the ``like`` of :func:`nok`), None if none."""
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    return max(finite) if finite else None


def number(x: float, lang: str, digits: int = 1) -> str:
    """A plain decimal number (``3.0``; ``3,0`` in bokmål), typeset."""
    return formatting.number(x, lang, digits, unicode_minus=True)


def points(x: float, lang: str) -> str:
    """A difference of shares in percentage points, without the unit (``7.2``; ``7,2``)."""
    return formatting.points(x, lang, 1, unicode_minus=True)

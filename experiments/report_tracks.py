"""Each track's share of the results and costs, for a kommune running several tracks at once.

A pathway that runs several innovation tracks side by side (``kommune_tracks_combined``: tracks 1,
3 and 4 sharing places and mentors, issue 17) names each track's stages with a prefix ``t<N>_``
(``t1_recruitment``, ``t3_enterprise_work``). A person belongs to the track of the first prefixed
stage they entered; the report shows, per track and for the people outside every track (not
routed to one; and the outcome payments made for a cohort or the pool, not for one person), the
share of

* **people** in the treatment arm,
* **jobs**: people who had a job (an employed spell) in one of their track's stages,
* **outcome payments** made for them (the contract's payments, ``Evaluation.payments``),
* **programme costs** their spells charge a public party within the contract period (as the
  public budgets' ``programme_costs``: ``cost_once`` at the start, ``cost_per_week`` while the
  spell lasts, a stage's per-cohort ``cost_cohort`` at once or spread over ``cost_cohort_weeks``),

each summed over the replications shown, so the shares of a column sum to the whole (1). Read from
re-simulated replications of the stored scenario (the same seeds as the stored runs); nothing in
sim or contracts is needed beyond the record tables and the evaluation.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from effekt.experiments.report_text import nok, number, pct

TRACK_PREFIX = re.compile(r"^t(\d+)_")
"""A track's stages begin ``t<N>_``."""
OUTSIDE = "outside"
"""The row of people in no track (and of payments made for no single person)."""
MEASURES = ("people", "jobs", "outcome_payments", "programme_costs")
NOT_PUBLIC = {"none", "employer", "private", "participants", "provider", "investor", ""}
"""Payers that are not a public budget (as :mod:`effekt.contracts.fiscal` counts them)."""
MAX_REPLICATIONS = 50
"""The replications re-simulated for the section (each is simulated and evaluated again)."""

WORDS: dict[str, dict[str, str]] = {
    "nb": {"heading": "Hvert spors andel av resultater og kostnader", "track": "Spor {n}",
           OUTSIDE: "Utenfor sporene", "part": "Del", "people": "Personer", "jobs": "Fikk jobb",
           "outcome_payments": "Resultatbetalinger", "programme_costs": "Programkostnader",
           "total": "Alle", "mean": "gjennomsnitt per replikasjon",
           "note": ("Andeler av summen over {reps} replikasjoner av tiltaksarmen. En person hører til "
                    "sporet for det første trinnet med sporets prefiks (t1_, t3_, ...) vedkommende gikk "
                    "inn i; «fikk jobb»: hadde en jobb i et av sporets trinn; resultatbetalinger for et "
                    "kull eller en pulje, ikke for én person, står under «utenfor sporene»; "
                    "programkostnader: trinnenes kostnader for offentlige parter i kontraktsperioden.")},
    "en": {"heading": "Each track's share of the results and costs", "track": "Track {n}",
           OUTSIDE: "Outside the tracks", "part": "Part", "people": "People", "jobs": "Got a job",
           "outcome_payments": "Outcome payments", "programme_costs": "Programme costs",
           "total": "All", "mean": "mean per replication",
           "note": ("Shares of the sum over {reps} replications of the treatment arm. A person belongs "
                    "to the track of the first stage with the track's prefix (t1_, t3_, ...) they "
                    "entered; 'got a job': had a job in one of the track's stages; outcome payments "
                    "made for a cohort or a pool, not for one person, are under 'outside the tracks'; "
                    "programme costs: the stages' costs to public parties within the contract period.")},
}


def track_of(stage: object) -> str | None:
    """The track of a stage name (``"t3"`` for ``t3_enterprise_work``), None outside every track."""
    m = TRACK_PREFIX.match(stage) if isinstance(stage, str) else None
    return f"t{int(m.group(1))}" if m else None


def tracks_of(stage_names: list[str]) -> list[str]:
    """The tracks a pathway's stages name, in numeric order."""
    found = {t for t in map(track_of, stage_names) if t}
    return sorted(found, key=lambda t: int(t[1:]))


def track_label(track: str, lang: str) -> str:
    """A track's row label: ``Spor 3`` / ``Track 3``, or the row outside every track."""
    w = WORDS[lang]
    return w[OUTSIDE] if track == OUTSIDE else w["track"].format(n=track[1:])


def _programme_costs(spells: pd.DataFrame, horizon_weeks: float) -> np.ndarray:
    """Each spell's programme costs to public parties within ``[0, horizon_weeks)``."""
    if "cost_payer" not in spells:
        return np.zeros(len(spells))
    col = {c: spells[c].to_numpy(dtype=float, na_value=0.0) if c in spells else np.zeros(len(spells))
           for c in ("start", "end", "cost_once", "cost_per_week", "cost_cohort", "cost_cohort_weeks")}
    start, end = col["start"], col["end"]
    public = ~spells["cost_payer"].fillna("none").str.lower().isin(NOT_PUBLIC).to_numpy()
    within = np.clip(np.minimum(end, horizon_weeks) - np.maximum(start, 0.0), 0.0, None)
    began = start < horizon_weeks
    cohort, cw = col["cost_cohort"], col["cost_cohort_weeks"]
    spread = (cohort > 0) & (cw > 0)
    spread_within = np.clip(np.minimum(start + cw, horizon_weeks) - start, 0.0, None)
    cohort_within = np.where(spread, cohort * spread_within / np.where(spread, cw, 1.0),
                             np.where(began, cohort, 0.0))
    cost = np.where(began, col["cost_once"], 0.0) + col["cost_per_week"] * within + cohort_within
    return np.where(public, cost, 0.0)


def track_sums(persons: pd.DataFrame, spells: pd.DataFrame, payments: pd.DataFrame | None,
               horizon_weeks: float) -> pd.DataFrame:
    """One replication's treatment arm by track (index: tracks and :data:`OUTSIDE`; columns
    :data:`MEASURES`): people, people with a job in their track, outcome payments and public
    programme costs (:mod:`module docs <effekt.experiments.report_tracks>`)."""
    people = persons.loc[persons["arm"] == "treatment", "person_id"]
    sp = spells[spells["arm"] == "treatment"].sort_values(["person_id", "start"], kind="stable")
    track = sp["stage"].map(track_of)
    first = track.dropna().groupby(sp["person_id"]).first()
    person_track = pd.Series(OUTSIDE, index=pd.Index(people.unique(), name="person_id"), dtype=object)
    person_track.loc[first.index.intersection(person_track.index)] = first
    spell_track = sp["person_id"].map(person_track).fillna(OUTSIDE)
    own_job = (sp["state"] == "employed") & track.notna() & (track == spell_track)
    rows = {
        "people": person_track.value_counts(),
        "jobs": sp.loc[own_job, "person_id"].drop_duplicates().map(person_track).value_counts(),
        "programme_costs": pd.Series(_programme_costs(sp, horizon_weeks), index=sp.index)
        .groupby(spell_track).sum(),
    }
    if payments is not None and len(payments):
        paid_track = payments["person_id"].map(person_track).fillna(OUTSIDE)
        rows["outcome_payments"] = payments["amount"].groupby(paid_track).sum()
    out = pd.DataFrame(rows).reindex(columns=list(MEASURES)).fillna(0.0)
    return out.astype(float)


def track_table(scenario, replications: list[int]) -> pd.DataFrame | None:
    """The sums over ``replications`` of ``scenario`` by track (:func:`track_sums`), with a
    ``replications`` attribute; None when the pathway names fewer than two tracks."""
    from effekt.experiments.runner import simulate_and_evaluate

    tracks = tracks_of(list(scenario.world.pathway.stages))
    if len(tracks) < 2 or not replications:
        return None
    horizon = float(scenario.world.horizon_weeks)
    total = None
    for r in replications:
        tables, ev = simulate_and_evaluate(scenario, r)
        sums = track_sums(tables.persons.to_pandas(), tables.spells.to_pandas(), ev.payments, horizon)
        total = sums if total is None else total.add(sums, fill_value=0.0)
    order = [t for t in [*tracks, OUTSIDE] if t in total.index or t != OUTSIDE]
    total = total.reindex(order).fillna(0.0)
    total.attrs["replications"] = len(replications)
    return total


def shares(table: pd.DataFrame) -> pd.DataFrame:
    """Each row's share of each column's whole (a column with no whole is 0 throughout)."""
    whole = table.sum()
    return table.div(whole.where(whole != 0, np.nan)).fillna(0.0)


def track_section(data, lang: str = "nb") -> str:
    """The report's section of each track's share (HTML), empty unless the scenario's pathway runs
    two or more tracks. Computed once per :class:`effekt.experiments.report.ReportData` (kept in
    it as ``track_shares``), from up to :data:`MAX_REPLICATIONS` of its stored replications."""
    sc = getattr(data, "scenario", None)
    if sc is None:
        return ""
    if "track_shares" not in data.__dict__:
        reps = sorted(int(r) for r in data.runs["replication"])[:MAX_REPLICATIONS]
        data.__dict__["track_shares"] = track_table(sc, reps)
    table = data.__dict__["track_shares"]
    return "" if table is None else render(table, lang)


def render(table: pd.DataFrame, lang: str) -> str:
    """The table of shares by track, with each column's whole (mean per replication) below."""
    esc = html.escape
    w = WORDS[lang]
    reps = max(int(table.attrs.get("replications", 1)), 1)
    share = shares(table)
    head = "".join(f"<th>{esc(w[m])}</th>" for m in MEASURES)
    body = []
    for track, row in share.iterrows():
        cells = "".join(f"<td>{esc(pct(row[m], lang))}</td>" for m in MEASURES)
        body.append(f"<tr><td>{esc(track_label(str(track), lang))}</td>{cells}</tr>")
    mean = table.sum() / reps
    shown = [number(mean[m], lang) if m in ("people", "jobs") else nok(mean[m], lang) for m in MEASURES]
    cells = "".join(f"<td>{esc(x)}</td>" for x in shown)
    body.append(f"<tr><th>{esc(w['total'])} ({esc(w['mean'])})</th>{cells}</tr>")
    return (f"<h2>{esc(w['heading'])}</h2><table><tr><th>{esc(w['part'])}</th>{head}</tr>"
            + "".join(body) + f'</table><p class="note">{esc(w["note"].format(reps=reps))}</p>')

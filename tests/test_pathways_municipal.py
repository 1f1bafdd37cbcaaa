"""The municipal examples and innovation tracks of the KS material as built-in pathways (issue 17).

Sources: the KS web guide *Inn i jobb* (ks.no, kommune examples "Kom i gang!") for Nærøy, Bodø,
Lindesnes, Asker and Molde; the KS FoU report by Agenda Kaupang, *Rekruttering av personer som står
på utsiden av arbeidslivet*, Dokumentasjonsrapport nr 1020364 (November 2018) for the innovation
tracks 1 and 4. For each pathway:

* it loads and validates, has a bokmål title for itself, every stage and capacity, and
  ``effekt pathways list/show`` show it in nb and en;
* its stage graph is the one the example describes: the stages, their kinds, where each leads and
  who pays the wage, written out below from the text (not read from the file);
* its null-test counterpart shows no effect beyond noise: the pathway with its stated effects
  removed (every ``after`` and every job's ``job_loss_multiplier`` dropped, and every job the
  programme gives replaced by an end without one) holds people and changes no hazard, so no effect
  may be positive beyond noise (tests/test_null_programme.py's ``check_never_positive``);
* Nærøy's October 2018 count of 15 jobs in the kommune (6 permanent, 4 temporary, 5 in training
  for a fagbrev) is covered by the simulated mix of contracts, with its uncertainty. It is a check,
  nothing in the file is tuned to it.

The fast part runs few people and replications; the same checks with more run under the
``calibration`` marker.
"""

from __future__ import annotations

from collections import deque
from itertools import product

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.stats import multinomial
from test_contracts_templates import approx_dict, by_month, run
from test_null_programme import check_never_positive, effects

from effekt.contracts import load_terms
from effekt.contracts.records import person, spell
from effekt.experiments.cli import main
from effekt.experiments.examples import PATHWAY_TEMPLATES
from effekt.sim import (
    Cohort,
    Counterfactual,
    Pathway,
    World,
    load_pathway,
    replication_seed,
    simulate,
)

ROOT_SEED = 20261217
TEMPLATE = "municipal_jobs_outcomes"

# --------------------------------------------------------------------------------------------
# The stage graphs, as the examples describe them: stage -> (kind, where it leads, wage payer)
# --------------------------------------------------------------------------------------------

K, E, S = "kommune", "employer", None  # wage payers; S: no wage (the prior benefit continues)
EXIT = ("exit", set(), S)

GRAPHS: dict[str, dict[str, tuple[str, set[str], str | None]]] = {
    # KS Inn i jobb, Nærøy: mapping by the immigration service, practice in the kommune (school and
    # kindergarten, health, cleaning) or with a private employer; then substitute and temporary
    # posts, part-time and a few permanent posts; health apprentices; on call at the nursing home
    "naroy_sector_practice": {
        "mapping": ("screening", {"practice_school_kindergarten", "practice_health", "practice_cleaning",
                                  "practice_private", "no_placement"}, S),
        "practice_school_kindergarten": ("practice", {"substitute_post", "school_assistant",
                                                      "kindergarten_fagbrev_at_work", "dropped_out",
                                                      "practice_ended"}, S),
        "practice_health": ("practice", {"health_apprentice", "on_call_nursing_home", "hjelpepleier_nights",
                                         "dropped_out", "practice_ended"}, S),
        "practice_cleaning": ("practice", {"cleaner", "dropped_out", "practice_ended"}, S),
        "practice_private": ("practice", {"private_job", "dropped_out", "practice_ended"}, S),
        "substitute_post": ("employment", {"school_assistant", "engagement_ended"}, K),
        "school_assistant": ("employment", set(), K),
        "kindergarten_fagbrev_at_work": ("employment", {"barne_ungdomsarbeider", "engagement_ended"}, K),
        "barne_ungdomsarbeider": ("employment", set(), K),
        "health_apprentice": ("employment", {"helsefagarbeider", "engagement_ended"}, K),
        "helsefagarbeider": ("employment", set(), K),
        "on_call_nursing_home": ("employment", {"engagement_ended"}, K),
        "hjelpepleier_nights": ("employment", set(), K),
        "cleaner": ("employment", set(), K),
        "private_job": ("employment", set(), E),
        "practice_ended": EXIT, "engagement_ended": EXIT, "no_placement": EXIT, "dropped_out": EXIT,
    },
    # KS Inn i jobb, Bodø: a NAV job candidate, practice matched to the education, simple bounded
    # tasks first, gradually more, a temporary post, then a permanent post
    "bodo_matched_practice": {
        "matching": ("screening", {"no_match", "simple_tasks"}, S),
        "simple_tasks": ("practice", {"dropped_out", "more_tasks"}, S),
        "more_tasks": ("practice", {"dropped_out", "practice_ended", "temporary_post"}, S),
        "temporary_post": ("employment", {"post_ended", "permanent_post"}, K),
        "permanent_post": ("employment", set(), K),
        "practice_ended": EXIT, "post_ended": EXIT, "no_match": EXIT, "dropped_out": EXIT,
    },
    # KS Inn i jobb, Lindesnes: a small part of a post paid by the kommune beside the benefit,
    # working up towards full time; or work training through NAV, then ordinary jobs in private
    # and public employers (some in the kommune)
    "lindesnes_benefit_and_part_post": {
        "nav_assessment": ("screening", {"part_post_small", "not_referred", "work_training"}, S),
        "part_post_small": ("employment", {"part_post_kept_small", "left_part_post", "part_post_half"}, K),
        "part_post_half": ("employment", {"part_post_kept_half", "left_part_post", "full_post"}, K),
        "part_post_kept_small": ("employment", set(), K),
        "part_post_kept_half": ("employment", set(), K),
        "full_post": ("employment", set(), K),
        "work_training": ("placement", {"dropped_out", "ordinary_job_private", "ordinary_job_public",
                                        "no_job"}, S),
        "ordinary_job_private": ("employment", set(), E),
        "ordinary_job_public": ("employment", set(), K),
        "no_job": EXIT, "left_part_post": EXIT, "not_referred": EXIT, "dropped_out": EXIT,
    },
    # KS Inn i jobb and KS 2018, Asker: individual pathways with NAV, kommune and business; nurses
    # educated abroad authorised as helsefagarbeidere in the kommune; a teacher track (discussed)
    "asker_askersjansen": {
        "individual_plan": ("screening", {"business_placement", "municipal_placement", "nurse_authorisation",
                                          "teacher_track", "no_plan"}, S),
        "business_placement": ("placement", {"private_job", "dropped_out", "placement_ended"}, S),
        "municipal_placement": ("placement", {"municipal_temporary_post", "dropped_out",
                                              "placement_ended"}, S),
        "nurse_authorisation": ("exam", {"not_authorised", "helsefagarbeider_post"}, S),
        "helsefagarbeider_post": ("employment", set(), K),
        "teacher_track": ("education", {"dropped_out", "teacher_post"}, S),
        "teacher_post": ("employment", set(), K),
        "private_job": ("employment", set(), E),
        "municipal_temporary_post": ("employment", set(), K),
        "placement_ended": EXIT, "not_authorised": EXIT, "no_plan": EXIT, "dropped_out": EXIT,
    },
    # KS 2018, track 1 (solutions A1, B1, B2) and Molde's recruitment on life experience: new
    # municipal posts (bridge-builder, experience consultant, visiting friend), some made permanent
    "track1_life_experience_posts": {
        "recruitment": ("screening", {"not_selected", "bridge_builder", "experience_consultant",
                                      "visiting_friend"}, S),
        "bridge_builder": ("employment", {"left_post_early", "post_made_permanent", "post_ended"}, K),
        "experience_consultant": ("employment", {"left_post_early", "post_made_permanent", "post_ended"}, K),
        "visiting_friend": ("employment", {"left_post_early", "post_made_permanent", "post_ended"}, K),
        "post_made_permanent": ("employment", set(), K),
        "post_ended": EXIT, "left_post_early": EXIT, "not_selected": EXIT,
    },
    # KS 2018, track 4 (solution D1): trainee posts in the kommune, into new and existing jobs
    "track4_trainee": {
        "selection": ("screening", {"not_selected", "trainee_period"}, S),
        "trainee_period": ("employment", {"left_traineeship_early", "permanent_post",
                                          "traineeship_ended"}, K),
        "permanent_post": ("employment", set(), K),
        "traineeship_ended": EXIT, "left_traineeship_early": EXIT, "not_selected": EXIT,
    },
    # KS 2018, track 3 (solution A2): a municipal enterprise for routine work, some stay on,
    # others move on to ordinary jobs
    "track3_municipal_enterprise": {
        "intake": ("screening", {"not_taken_on", "enterprise_work"}, S),
        "enterprise_work": ("employment", {"left_enterprise_early", "enterprise_permanent", "ordinary_job",
                                           "enterprise_ended"}, K),
        "enterprise_permanent": ("employment", set(), K),
        "ordinary_job": ("employment", set(), E),
        "enterprise_ended": EXIT, "left_enterprise_early": EXIT, "not_taken_on": EXIT,
    },
}
PREFIX = {"track1_life_experience_posts": "t1_", "track3_municipal_enterprise": "t3_",
          "track4_trainee": "t4_"}


def _combined() -> dict[str, tuple[str, set[str], str | None]]:
    """The combined kommune: an intake that routes to the three tracks, whose stages are the
    tracks' own (prefixed), and an end for people no track fits."""
    graph = {"kommune_intake": ("screening", {"t1_recruitment", "t3_intake", "t4_selection", "no_track"}, S),
             "no_track": EXIT}
    for track, prefix in PREFIX.items():
        for stage, (kind, leads_to, payer) in GRAPHS[track].items():
            graph[prefix + stage] = (kind, {prefix + t for t in leads_to}, payer)
    return graph


GRAPHS["kommune_tracks_combined"] = _combined()
NAMES = sorted(GRAPHS)

TYPICAL = {  # a cohort like the one each example describes (assumptions, see each file's header)
    "naroy_sector_practice": {"R": 0.7, "C": 0.3},
    "bodo_matched_practice": {"R": 0.5, "D": 0.5},
    "lindesnes_benefit_and_part_post": {"A": 0.3, "B": 0.7},
    "asker_askersjansen": {"C": 0.4, "D": 0.3, "R": 0.3},
    "track1_life_experience_posts": {"A": 0.5, "B": 0.5},
    "track4_trainee": {"D": 1.0},
    "track3_municipal_enterprise": {"A": 0.5, "B": 0.5},
    "kommune_tracks_combined": {"A": 0.35, "B": 0.35, "D": 0.3},
}


def edges(pw: Pathway, name: str) -> set[str]:
    st = pw.stages[name]
    return {e.to for e in st.exits} | {e.otherwise for e in st.exits if e.otherwise} | (
        {st.next} if st.next else set())


@pytest.mark.parametrize("name", NAMES)
def test_each_pathway_loads_validates_and_has_its_contract(name):
    pw = load_pathway(name)
    assert pw.pathway.name == name
    assert PATHWAY_TEMPLATES[name] == TEMPLATE
    assert pw.pathway.title and pw.pathway.title_nb and pw.pathway.title_nb != pw.pathway.title
    assert all(st.title and st.title_nb for st in pw.stages.values())
    assert all(c.title and c.title_nb for c in pw.capacity.values())
    assert len(pw.pathway.description.split()) > 40 and len(pw.pathway.description_nb.split()) > 40


@pytest.mark.parametrize("name", NAMES)
def test_the_stage_graph_is_the_one_the_example_describes(name):
    pw = load_pathway(name)
    expected = GRAPHS[name]
    assert set(pw.stages) == set(expected)
    for stage, (kind, leads_to, wage_payer) in expected.items():
        st = pw.stages[stage]
        assert st.kind == kind, stage
        assert edges(pw, stage) == leads_to, stage
        assert st.funding.wage_payer == wage_payer, stage
        if kind != "employment":  # outside jobs the person keeps the prior benefit
            assert st.funding.benefit in (None, "continues"), stage


def test_naroy_the_sector_sets_duration_and_job_chances():
    pw = load_pathway("naroy_sector_practice")
    sectors = ("school_kindergarten", "health", "cleaning", "private")
    practice = {s: pw.stages[f"practice_{s}"] for s in sectors}

    def job_chance(st) -> float:
        return sum(e.p for e in st.exits if pw.stages[e.to].kind == "employment")

    # KS Inn i jobb: cleaning practice lasts long; health is harder than schools and kindergartens
    assert practice["cleaning"].duration.mean > 1.5 * practice["school_kindergarten"].duration.mean
    assert job_chance(practice["health"]) < job_chance(practice["school_kindergarten"])
    # schools and kindergartens lead to substitute posts; health to apprenticeships and on-call work
    assert "substitute_post" in edges(pw, "practice_school_kindergarten")
    assert {"health_apprentice", "on_call_nursing_home"} <= edges(pw, "practice_health")
    # the kommune's places are shared by its three sectors; a private employer needs none
    assert all(practice[s].resources == ("municipal_placements",) for s in ("school_kindergarten", "health",
                                                                             "cleaning"))
    assert practice["private"].resources == ()


def test_lindesnes_works_up_towards_full_time_beside_a_graded_benefit():
    pw = load_pathway("lindesnes_benefit_and_part_post")
    ftes = [pw.stages[s].employment.fte for s in ("part_post_small", "part_post_half", "full_post")]
    assert ftes == sorted(ftes) and ftes[0] <= 0.25 and ftes[-1] == 1.0
    # in the part posts the benefit is left to its own rule for work (AAP graded by the hours)
    world = World(pathway=pw, horizon_weeks=260, counterfactual=Counterfactual(mode="none"),
                  cohorts=[Cohort(name="b", start_week=0, size=30, groups={"B": 1.0})])
    t = simulate(world, replication_seed(ROOT_SEED, 0))
    sp, persons = t.spells.to_pandas(), t.persons.to_pandas().set_index("person_id")
    work = sp[sp["state"] == "employed"]
    own = work["person_id"].map(persons["benefit_g"])  # the person's own AAP (2/3 of the minimum under 25)
    # folketrygdloven § 11-23: AAP x (1 - fte) beside a job up to 60 % of full time, none above
    for stage, fte in (("part_post_small", 0.2), ("part_post_half", 0.5)):
        on_aap = work[(work["stage"] == stage) & (work["benefit_kind"] == "aap")]
        assert len(on_aap) > 0, stage
        assert np.allclose(on_aap["benefit_g"], own[on_aap.index] * (1 - fte)), stage
    full = work[work["stage"] == "full_post"]
    assert len(full) > 0
    assert not ((full["benefit_kind"] == "aap") & (full["benefit_g"] > 0)).any()


def test_the_combined_kommune_runs_each_track_as_its_own_file_does():
    combined = load_pathway("kommune_tracks_combined")
    for track, prefix in PREFIX.items():
        own = load_pathway(track)
        for name, st in own.stages.items():
            twin = combined.stages[prefix + name]
            assert (twin.kind, twin.duration, twin.employment, twin.costs, twin.after) == (
                st.kind, st.duration, st.employment, st.costs, st.after), name
            assert [(e.p, e.group_multiplier, e.logistic) for e in twin.exits] == [
                (e.p, e.group_multiplier, e.logistic) for e in st.exits], name
    # the tracks share the places and the mentors: track 1's posts and the trainee year need both
    for stage in ("t1_bridge_builder", "t1_experience_consultant", "t1_visiting_friend", "t4_trainee_period"):
        assert combined.stages[stage].resources == ("work_places", "mentors")
    assert combined.stages["t3_enterprise_work"].resources == ("work_places",)


def track_shares(name: str, people: int, reps: int) -> pd.DataFrame:
    """Each track's share of the participants, of the job starts the pathway gives and of the
    kommune's wage and programme costs, summed over replications, from the record tables: the split
    a report of the combined kommune would show (a person belongs to the track of the first
    prefixed stage they entered)."""
    world = World(pathway=load_pathway(name), horizon_weeks=156, counterfactual=Counterfactual(mode="none"),
                  cohorts=[Cohort(name="kull", start_week=0, size=people, groups=TYPICAL[name])])
    rows = []
    for r in range(reps):
        t = simulate(world, replication_seed(ROOT_SEED, r))
        sp = t.spells.to_pandas()
        sp = sp[sp["arm"] == "treatment"].copy()
        sp["track"] = sp["stage"].str.extract(r"^(t[134])_", expand=False)
        weeks = sp["end"] - sp["start"]
        sp["cost"] = sp["cost_once"] + sp["cost_per_week"] * weeks + sp["cost_cohort"] + np.where(
            sp["wage_payer"] == "kommune", sp["annual_wage"].fillna(0) * sp["fte"].fillna(0) * weeks / 52, 0)
        people_of = sp.dropna(subset=["track"]).groupby("person_id")["track"].first()
        jobs = sp[(sp["state"] == "employed") & sp["track"].notna()].groupby("track")["person_id"].nunique()
        rows.append(pd.DataFrame({"people": people_of.value_counts(), "job_starts": jobs,
                                  "kommune_costs": sp.groupby("track")["cost"].sum()}))
    total = pd.concat(rows).groupby(level=0).sum()
    return total / total.sum()


def test_the_combined_kommune_shows_each_tracks_share_of_results_and_costs():
    shares = track_shares("kommune_tracks_combined", people=40, reps=4)
    assert set(shares.index) == {"t1", "t3", "t4"}
    assert np.allclose(shares.sum(), 1.0)
    assert (shares > 0).all().all()
    # the intake routes 90 % of each group: A and B half to track 1, half to track 3, D to track 4,
    # so of the routed people track 1 and 3 have 0.7 x 0.45 / 0.9 = 35 % each and track 4 30 %;
    # with about 144 routed people one share's sd is about 0.04
    for track, expected in {"t1": 0.35, "t3": 0.35, "t4": 0.30}.items():
        assert abs(shares.loc[track, "people"] - expected) < 0.15, track


# --------------------------------------------------------------------------------------------
# The null-test counterpart: the pathway with its stated effects removed shows no effect
# --------------------------------------------------------------------------------------------

def without_effects(pw: Pathway) -> Pathway:
    """The same pathway with every stated effect removed: no ``after``, and every job the
    programme gives (employment and project-position stages) replaced by an end without a job, so
    that what is left holds people in its stages and changes no hazard. Stages only reachable
    through a job are dropped."""
    data = pw.model_dump(mode="json", exclude_none=True)
    for name, st in data["stages"].items():
        st.pop("after", None)
        if st["kind"] in ("employment", "project_position"):
            data["stages"][name] = {"kind": "exit", "title": st.get("title", ""), "outcome": "not_employed"}
    seen, todo = set(), deque([data["pathway"]["entry"]])
    while todo:
        n = todo.popleft()
        if n in seen:
            continue
        seen.add(n)
        st = data["stages"][n]
        todo.extend([e["to"] for e in st.get("exits", [])] + [e["otherwise"] for e in st.get("exits", [])
                                                              if e.get("otherwise")])
        if st.get("next"):
            todo.append(st["next"])
    data["stages"] = {n: st for n, st in data["stages"].items() if n in seen}
    data["pathway"]["name"] = pw.pathway.name + "_null"
    return Pathway.model_validate(data)


def null_runs(name: str, people: int, reps: int) -> list:
    """``reps`` replications of the pathway without its effects, one kull of ``people`` of the
    example's groups, both arms. Capacities are raised to the kull's size: the examples' places
    are sized for a handful of people, and a thousand queueing for eight places would wait years
    on their benefit, a lock-in whose income tax on the longer-paid (taxable) introduksjonsstønad
    shows as tax gained, which the check's exception for benefit items does not cover."""
    pw = without_effects(load_pathway(name))
    pw = pw.model_copy(update={"capacity": {k: c.model_copy(update={"slots": max(c.slots, people)})
                                            for k, c in pw.capacity.items()}})
    world = World(pathway=pw, horizon_weeks=156,
                  counterfactual=Counterfactual(mode="parallel"),
                  cohorts=[Cohort(name="kull", start_week=0, size=people, groups=TYPICAL[name])])
    return [simulate(world, replication_seed(ROOT_SEED, r)) for r in range(reps)]


@pytest.mark.parametrize("name", NAMES)
def test_the_counterpart_without_effects_has_no_jobs_and_nothing_stated(name):
    null = without_effects(load_pathway(name))
    assert all(st.after is None and st.employment is None for st in null.stages.values())
    assert {st.kind for st in null.stages.values()} & {"employment", "project_position"} == set()


@pytest.mark.parametrize("name", NAMES)
def test_the_pathway_without_its_stated_effects_shows_no_effect_beyond_noise(name):
    check_never_positive(effects(load_terms(TEMPLATE), null_runs(name, people=150, reps=8)))


@pytest.mark.calibration
@pytest.mark.parametrize("name", NAMES)
def test_the_pathway_without_its_stated_effects_shows_no_effect_beyond_noise_many(name):
    found = effects(load_terms(TEMPLATE), null_runs(name, people=1000, reps=40))
    check_never_positive(found)
    # nobody is in work through the programme: the in-work effect at 12 months is not positive
    at12 = found["in_work_12m"]
    assert at12.mean < 4 * at12.se


# --------------------------------------------------------------------------------------------
# Nærøy, October 2018: the mix of contracts in the kommune
# --------------------------------------------------------------------------------------------

OCTOBER_2018 = {"permanent": 6, "temporary": 4, "in_training": 5}
"""KS Inn i jobb, Nærøy: jobs in the kommune in October 2018, 15 people. Permanent: 3 cleaners (full
and part time; counted as permanent posts, an assumption: the example does not say), 2 school
assistants (permanent, full and part time), 1 hjelpepleier (permanent, part-time nights).
Temporary: 1 school assistant (part time), 1 teacher (part time), 2 on call at the nursing home.
In training for a fagbrev: 4 helsefag apprentices, 1 kindergarten assistant taking the fagbrev at
work."""
IN_TRAINING = {"health_apprentice", "kindergarten_fagbrev_at_work"}
NAROY_WEEKS = 196  # assumption: the count came about 3 3/4 years after people began to be referred (2015)
NAROY_PEOPLE = 80  # assumption: about 21 a year referred to the immigration service (the stream's size)


def naroy_mix(reps: int, seed: int = ROOT_SEED) -> pd.DataFrame:
    """Per replication, how many people hold a job in the kommune that came from the pathway, by
    kind of contract, at the week of the count."""
    pw = load_pathway("naroy_sector_practice")
    kommune = {n for n, st in pw.stages.items()
               if st.employment is not None and st.funding.wage_payer == "kommune"}
    world = World(pathway=pw, horizon_weeks=NAROY_WEEKS + 1, counterfactual=Counterfactual(mode="none"),
                  cohorts=[Cohort(name="stream", start_week=0, size=NAROY_PEOPLE, groups=TYPICAL[
                      "naroy_sector_practice"], arrival="poisson", rate_per_week=NAROY_PEOPLE / NAROY_WEEKS)])
    rows = []
    for r in range(reps):
        sp = simulate(world, replication_seed(seed, r)).spells.to_pandas()
        held = sp[(sp["arm"] == "treatment") & sp["stage"].isin(kommune) & sp["contract"].notna()
                  & (sp["start"] <= NAROY_WEEKS) & (sp["end"] > NAROY_WEEKS)]
        kind = np.where(held["stage"].isin(IN_TRAINING), "in_training", held["contract"])
        rows.append(pd.Series(kind).value_counts())
    return pd.DataFrame(rows).reindex(columns=list(OCTOBER_2018)).fillna(0.0)


def multinomial_p_value(observed: dict[str, int], shares: np.ndarray) -> float:
    """Exact multinomial test: the probability, under ``shares``, of a mix of the same total at most
    as likely as the observed one."""
    n = sum(observed.values())
    obs = [observed[k] for k in OCTOBER_2018]
    p_obs = multinomial.pmf(obs, n, shares)
    total = 0.0
    for a, b in product(range(n + 1), repeat=2):
        if a + b <= n:
            p = multinomial.pmf([a, b, n - a - b], n, shares)
            if p <= p_obs * (1 + 1e-9):
                total += p
    return float(total)


def test_the_exact_multinomial_test_by_hand():
    # two equally likely outcomes of n = 2 in 3 categories with shares 1/2, 1/4, 1/4: (1, 1, 0) has
    # probability 2 x 1/2 x 1/4 = 1/4; at most as likely: (1,1,0), (1,0,1) (1/4 each), (0,1,1) (1/8),
    # (0,2,0), (0,0,2) (1/16 each); (2,0,0) has 1/4 too -> 1/4 + 1/4 + 1/8 + 1/16 + 1/16 + 1/4 = 1
    assert multinomial_p_value({"permanent": 1, "temporary": 1, "in_training": 0},
                               np.array([0.5, 0.25, 0.25])) == pytest.approx(1.0)
    # (0, 0, 2): 1/16, at most as likely: (0,2,0) and itself -> 1/8
    assert multinomial_p_value({"permanent": 0, "temporary": 0, "in_training": 2},
                               np.array([0.5, 0.25, 0.25])) == pytest.approx(0.125)


def check_naroy_mix_covered(mix: pd.DataFrame, draws_per_rep: int, seed: int) -> None:
    """The count of October 2018 is covered by the simulated mix: (1) an exact multinomial test of
    the 15 against the simulated mean shares does not reject at 5 %; (2) each kind's count lies in
    the 95 % range of a kommune of 15 such jobs, drawn from each replication's own shares (so the
    range carries the model's uncertainty between replications, not only the draw of 15)."""
    totals = mix.sum(axis=1)
    assert (totals > 0).mean() > 0.9, "too few jobs held at the count to have a mix"
    shares = mix.sum() / mix.to_numpy().sum()
    assert multinomial_p_value(OCTOBER_2018, shares.to_numpy()) > 0.05, shares.to_dict()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n = sum(OCTOBER_2018.values())
    rep_shares = mix[totals > 0].div(totals[totals > 0], axis=0).to_numpy()
    draws = np.vstack([rng.multinomial(n, s, size=draws_per_rep) for s in rep_shares])
    for i, kind in enumerate(OCTOBER_2018):
        low, high = np.quantile(draws[:, i], [0.025, 0.975])
        assert low <= OCTOBER_2018[kind] <= high, f"{kind}: {OCTOBER_2018[kind]} outside {low:g}-{high:g}"


def test_naroy_october_2018_mix_is_covered_by_the_simulated_distribution():
    check_naroy_mix_covered(naroy_mix(reps=12), draws_per_rep=200, seed=ROOT_SEED)


@pytest.mark.calibration
def test_naroy_october_2018_mix_is_covered_by_the_simulated_distribution_many():
    check_naroy_mix_covered(naroy_mix(reps=300, seed=ROOT_SEED + 1), draws_per_rep=100, seed=ROOT_SEED + 1)


# --------------------------------------------------------------------------------------------
# Shown in nb and en; the contract by hand
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nb", "en"])
def test_pathways_list_and_show_give_each_in_both_languages(lang):
    listing = CliRunner().invoke(main, ["pathways", "list", "--lang", lang])
    assert listing.exit_code == 0, listing.output
    for name in NAMES:
        pw = load_pathway(name)
        title = pw.pathway.title_nb if lang == "nb" else pw.pathway.title
        assert title in listing.output
        shown = CliRunner().invoke(main, ["pathways", "show", name, "--lang", lang])
        assert shown.exit_code == 0, shown.output
        assert title in shown.output
        description = pw.pathway.description_nb if lang == "nb" else pw.pathway.description
        assert " ".join(description.split()[:6]) in " ".join(shown.output.split())
        for st in pw.stages.values():
            assert (st.title_nb if lang == "nb" else st.title) in shown.output


def test_municipal_jobs_outcomes_by_hand():
    persons = [person(0), person(1)]
    spells = [spell(0, "programme", 0, 13), spell(0, "employed", 13, 156, fte=0.2, annual_wage=420_000),
              spell(1, "employed", 0, 156, fte=0.1, annual_wage=420_000)]  # below a fifth: no outcome
    ev = run(TEMPLATE, persons, spells)
    # job start week 13 = month 3, +3 lag = 6, end of quarter 8; six months later, week 39 = month 9
    # -> 12 -> 14
    assert by_month(ev, "investor", "outcome_payment") == approx_dict({8: 17_000, 14: 34_000})
    assert by_month(ev, "kommune") == approx_dict({8: -8_500, 14: -17_000})

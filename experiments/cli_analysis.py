"""The analysis commands of ``effekt``: report, breakeven, sensitivity, pilot-size, compare, decide.

Thin, like the rest of the CLI: parse, call :mod:`effekt.experiments.report` or
:mod:`effekt.experiments.analysis`, print. ``register(main)`` adds them to the ``effekt`` group.
Every command that simulates takes ``--workers`` and ``--dask`` (:func:`executor_options`, the
same options as ``effekt run``): its replications run on that executor, with the same numbers on
every executor.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option, say


def open_executor(workers: int | None, dask: str | None):
    """:func:`effekt.experiments.executors.open_executor`, imported when a command runs: its
    multiprocessing is 0.015 s of CPU that ``--help`` and ``validate`` do not need (issue 14)."""
    from effekt.experiments.executors import open_executor as opened

    return opened(workers, dask)


def executor_options(fn):
    """``--workers`` and ``--dask``: where replications run (shared by run, batch, sweep and the
    analysis commands)."""
    options = [
        click.option("--workers", type=click.IntRange(min=1),
                     help="Local worker processes, or workers of --dask local (default: all cores; "
                          "1 runs in this process)."),
        click.option("--dask", "dask", metavar="ADDRESS",
                     help="Run on Dask: a scheduler address (tcp://host:8786) or 'local' for a "
                          "LocalCluster (pip install 'effekt[dask]'). 'local' first starts a cluster "
                          "on this machine, which takes seconds: it is for trying a Dask set-up. On "
                          "one machine --workers is faster; a cluster started once (dask scheduler, "
                          "dask worker) is reused by every command given its address."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


WTP_DEFAULT = "0:300000:25000"
"""``decide``'s default willingness-to-pay grid per additional discounted person-year in work
(NOK). An assumption, scaled by a year of the lowest work assessment allowance (AAP: 2 G a year,
folketrygdloven § 11-20; G = 124 028 kr from 1 May 2024, so about 250 000 kr), the budget cost
of a year out of work that a year in work replaces; 25 000 kr steps resolve where the
acceptability curve rises (the old 100 000 kr steps jumped from 0 % to 100 % in one step)."""


def _save(table, out: str | None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        click.echo(f"\nSaved {out}")


@click.command()
@click.argument("results", type=click.Path(file_okay=False, exists=True))
@click.option("--out", type=click.Path(dir_okay=False), help="HTML file (default: RESULTS/report.html).")
@lang_option("Norwegian bokmål or English labels and numbers.")
@click.option("--point", type=int, default=0, show_default=True, help="Design point to report.")
@click.option("--timeseries-runs", type=click.IntRange(min=1), default=200, show_default=True,
              help="Replications re-simulated for time series and the funnel.")
def report(results, out, lang, point, timeseries_runs):
    """One self-contained HTML report of a results directory: summary, caveats and figures.

    Picks up RESULTS/analysis/sensitivity_oat.csv (tornado), sensitivity_morris.csv,
    sensitivity_sobol.csv and compare.csv when present.
    """
    from effekt.experiments.report import write_report
    from effekt.specfile import SpecError

    try:
        path = write_report(results, out, lang=lang, point=point, ts_runs=timeseries_runs)
    except (SpecError, FileNotFoundError) as err:
        _fail(err, lang)
    click.echo(say("written", lang, path=path))


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option("--for", "party", required=True, metavar="PARTY",
              help="Who breaks even: investor, kommune, state or public (all public budgets; "
                   "'commissioner' is an older name for it).")
@click.option("--vary", required=True, metavar="KEY",
              help="Dotted scenario key, e.g. contract.prices.job_sustained or world.cohorts[0].size.")
@click.option("--target", type=float,
              help="Break-even level of the metric (e.g. 0.05 for a 5 % IRR; default: money "
                   "multiple 1, probability of loss 0.5, NPV 0, IRR 0).")
@click.option("--metric", type=click.Choice(["multiple", "loss", "npv", "irr"]),
              help="investor: multiple (default: mean money multiple = 1), loss (probability of "
                   "loss = 50 %), npv or irr (undefined IRRs are counted in the output); kommune, "
                   "state, public: npv (their fiscal NPV, outcome payments included).")
@click.option("--low", type=float, help="Lowest value tried (default 0).")
@click.option("--high", type=float, help="Highest value tried (default twice the scenario's).")
@click.option("--points", type=click.IntRange(min=2), default=7, show_default=True,
              help="Number of values tried, evenly from --low to --high.")
@click.option("--runs", "replications", type=click.IntRange(min=2), default=50, show_default=True,
              help="Replications per value (the same seeds for every value).")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed (default: the scenario's).")
@click.option("--bootstrap", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Bootstrap resamples of the replications for the break-even value's interval (0: none).")
@lang_option()
@executor_options
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario key, e.g. --set contract.prices.job_start=60000.")
def breakeven(scenario, party, vary, target, metric, low, high, points, replications, seed,
              bootstrap, lang, workers, dask, assignments):
    """The value of one scenario number at which the investor, the kommune, the state or the
    public budgets break even, with the metric named."""
    from effekt.experiments.analysis.breakeven import breakeven as run
    from effekt.experiments.analysis.breakeven import render
    from effekt.specfile import SpecError

    try:
        with open_executor(workers, dask) as executor:
            b = run(scenario, party, vary, target=target, metric=metric, low=low, high=high,
                    points=points, replications=replications, seed=seed, bootstrap=bootstrap,
                    assignments=list(assignments), executor=executor)
    except (SpecError, RuntimeError) as err:
        _fail(err, lang)
    click.echo(render(b, lang))


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option("--param", "params", multiple=True, metavar="KEY[=LOW:HIGH]",
              help="An uncertain number and its range (bare KEY: +-20 % around its value). "
                   "Default: the numbers the scenario's files give as priors (the tornado at their "
                   "5 % and 95 % quantiles, Morris and Sobol through their quantile functions), its "
                   "[design.uncertainties] and numeric [design.levers].")
@click.option("--method", type=click.Choice(["oat", "morris", "sobol"]), default="oat",
              show_default=True, help="oat: one number at a time (a tornado); morris: elementary "
                                      "effects; sobol: variance shares.")
@click.option("--output", default="investor_npv", show_default=True, help="KPI to explain.")
@click.option("--runs", "replications", type=click.IntRange(min=1), default=20, show_default=True,
              help="Replications per sample point (common random numbers).")
@click.option("--samples", type=click.IntRange(min=2), default=32, show_default=True,
              help="Sobol: base samples (power of two); Morris: trajectories.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the parameter sample.")
@executor_options
@click.option("--out", type=click.Path(dir_okay=False), help="Save the table as CSV.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario key, e.g. --set contract.prices.job_start=60000.")
@lang_option()
def sensitivity(scenario, params, method, output, replications, samples, seed, workers, dask, out,
                assignments, lang):
    """Which uncertain numbers move an outcome: tornado (oat), Morris or Sobol (SALib)."""
    from effekt.experiments.analysis import sensitivity as sa
    from effekt.specfile import SpecError

    try:
        model = sa.ScenarioModel(scenario, output, replications, assignments=list(assignments))
        ps = sa.parse_params(list(params), model.resolved, model.base.source)
        with open_executor(workers, dask) as executor:
            if method == "oat":
                base = {p.key: model.base_value(p.key) for p in ps}
                table = sa.one_at_a_time(model, ps, base, output, executor=executor)
            elif method == "morris":
                table = sa.morris(model, ps, trajectories=samples, seed=seed, executor=executor)
            else:
                table = sa.sobol(model, ps, n=samples, seed=seed, executor=executor)
    except (SpecError, RuntimeError) as err:
        _fail(err, lang)
    words = SENSITIVITY_WORDS[lang]
    click.echo(words[method].format(out=output) + words["runs"].format(n=replications))
    click.echo(sa.render(table, lang))
    for p in ps:  # one row for a posterior's numbers: say that they move together
        if p.joint:
            click.echo(words["joint"].format(key=p.key, n=len(p.joint) + 1, name=p.prior.name))
    _save(table.assign(output=output), out)


SENSITIVITY_WORDS: dict[str, dict[str, str]] = {
    "en": {"oat": ("One at a time: mean {out} at each parameter's low and high value (a prior's 5 % and "
                   "95 % quantiles)"),
           "morris": "Morris screening of {out}: mu* (95 % CI half-width), sigma",
           "sobol": "Sobol indices of {out}: first order S1, total ST, 95 % CI half-widths",
           "runs": " ({n} replications per point, common random numbers)",
           "joint": ("{key}: one row for the {n} numbers of the posterior '{name}', drawn jointly (one "
                     "particle for all of them at each point: their correlation kept)")},
    "nb": {"oat": ("Én om gangen: gjennomsnittlig {out} ved hver parameters lave og høye verdi (en "
                   "fordelings 5 %- og 95 %-kvantil)"),
           "morris": "Morris-screening av {out}: mu* (halv bredde av 95 % KI), sigma",
           "sobol": "Sobol-indekser for {out}: første orden S1, total ST, halve bredder av 95 % KI",
           "runs": " ({n} replikasjoner per punkt, felles tilfeldige tall)",
           "joint": ("{key}: én rad for de {n} tallene i a posteriori-fordelingen '{name}', trukket "
                     "sammen (én partikkel for alle i hvert punkt: korrelasjonen beholdes)")},
}
"""The first line of ``effekt sensitivity`` in English and bokmål."""


@click.command("pilot-size")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option("--n", "sizes", type=click.IntRange(min=1), multiple=True, default=(5,), show_default=True,
              help="Pilot size(s): people in the programme (and as many controls).")
@click.option("--measure", default="in_work_12m", show_default=True,
              help="Yes/no outcome with _treatment and _control KPIs (in_work_12m, in_work_24m, "
                   "in_ordinary_work_12m, in_work_or_education_12m, ...).")
@click.option("--p-treatment", type=click.FloatRange(0, 1), help="Success probability with the "
              "programme (default: from simulating the scenario).")
@click.option("--p-control", type=click.FloatRange(0, 1), help="... and without it.")
@click.option("--effect", type=click.FloatRange(-1, 1),
              help="The effect to detect, as a difference in probability (0.1 = 10 percentage "
                   "points): sets the programme's probability to the counterfactual's plus this.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level of the test.")
@click.option("--power", "target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.8, show_default=True,
              help="Power wanted: the N needed is the smallest pilot with at least this power.")
@click.option("--runs", "replications", type=click.IntRange(min=1), default=200, show_default=True,
              help="Replications to estimate the probabilities, and model-simulated pilots.")
@click.option("--no-model-pilots", is_flag=True, help="Skip simulating whole pilots through the model.")
@click.option("--results", type=click.Path(file_okay=False, exists=True),
              help="Also the value of each pilot before signing (EVSI), from a results directory "
                   "with parameter draws; without SCENARIO and probabilities, the probabilities "
                   "come from it too.")
@click.option("--for", "commissioner", default="kommune", show_default=True, metavar="PARTY",
              help="With --results: who decides (kommune, state, public).")
@click.option("--wtp", type=float, default=0.0, show_default=True,
              help="With --results: willingness to pay per additional person in work.")
@click.option("--per", default="in_work_24m", show_default=True, metavar="MEASURE",
              help="With --results: what an additional person in work is (see effekt decide).")
@lang_option("With --results: language of the value lines.")
@executor_options
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario key, e.g. --set contract.prices.job_start=60000.")
def pilot_size(scenario, sizes, measure, p_treatment, p_control, effect, alpha, target,
               replications, no_model_pilots, results, commissioner, wtp, per, lang, workers, dask,
               assignments):
    """Could a pilot of N people show a difference? Power, and the N needed (BLT: Test); with
    --results, what each pilot is worth before signing."""
    from effekt.specfile import SpecError
    if effect is not None and p_treatment is not None:
        _fail(say("pilot_both", lang), lang)
    decision = None
    if results:
        from effekt.experiments.analysis import decision as de

        try:
            decision = de.load_decision(results, commissioner, per, pilot_measure=measure)
        except (SpecError, FileNotFoundError) as err:
            _fail(err, lang)
    try:
        with open_executor(workers, dask) as executor:
            _pilot_size(scenario, sizes, measure, p_treatment, p_control, effect, alpha, target,
                        replications, no_model_pilots, assignments, executor, decision, lang)
    except RuntimeError as err:  # an executor that cannot start (no Dask, no scheduler)
        _fail(err, lang)
    if decision is not None:
        for d in decision.draws:
            click.echo("")
            if d.policy:
                from effekt.experiments.analysis.decision_report import policy_label

                click.echo(policy_label(d) + ":")
            click.echo("\n".join(_pilot_values(d, sizes, wtp, decision, 200, lang, measure)))


PILOT_WORDS = {
    "en": {
        "outcome": "Outcome: {measure}; probability with the programme {pt}, without it {pc} ({source}); "
                   "two-sided alpha {alpha}",
        "power_is": "Power: the chance that a pilot shows the programme significantly BETTER than business "
                    "as usual (the upper tail of the two-sided test: one-sided alpha {half})",
        "worse_expected": "The programme is expected to be WORSE than business as usual ({pt} against {pc}): "
                          "no pilot can be expected to show an improvement; the power below is the chance "
                          "of a false sign of one, and a pilot is more likely to show the programme "
                          "significantly worse",
        "pilot": "\nPilot of {n} in the programme and {n} controls:",
        "exact_z": "  power {p} (exact binomial, z-test)",
        "fisher": "  power {p} (exact binomial, Fisher's exact test)",
        "normal": "  power {p} (normal approximation)",
        "simulated": "  power {p} +- {pm} (20 000 simulated binomial pilots)",
        "shows_worse": "  chance the pilot shows the programme significantly WORSE: {p} (exact binomial, "
                       "z-test)",
        "model": "  power {p} +- {pm} ({r} randomised pilots of about {people} people simulated through the "
                 "model, with its capacity)",
        "model_worse": "    ... and {p} of those pilots show the programme significantly WORSE than "
                       "business as usual",
        "model_skipped": "  (model pilots skipped: {err})",
        "no_control_none": "  without a control group, against a known rate of {pc}: no result out of {n} "
                           "would be significant (one-sided alpha {half})",
        "no_control": "  without a control group, against a known rate of {pc}: significant only with {k} "
                      "or more of {n} in work (one-sided alpha {half}); power {p}",
        "per_arm_none": "\nPeople per arm for {target} power: none (the programme is expected to be worse, "
                        "so no pilot size gives power to show an improvement)",
        "per_arm": "\nPeople per arm for {target} power: {nn} (normal formula), {ne} (exact binomial, "
                   "z-test); {all} people in all",
        "more_than": "more than 2 000",
    },
    "nb": {
        "outcome": "Resultat: {measure}; sannsynlighet med tiltaket {pt}, uten {pc} ({source}); tosidig "
                   "alfa {alpha}",
        "power_is": "Styrke: sjansen for at en pilot viser at tiltaket er signifikant BEDRE enn det vanlige "
                    "løpet (den øvre halen av den tosidige testen: ensidig alfa {half})",
        "worse_expected": "Tiltaket ventes å være DÅRLIGERE enn det vanlige løpet ({pt} mot {pc}): ingen "
                          "pilot kan ventes å vise en forbedring; styrken nedenfor er sjansen for et falskt "
                          "tegn på en, og en pilot viser heller tiltaket som signifikant dårligere",
        "pilot": "\nPilot med {n} i tiltaket og {n} i kontrollgruppen:",
        "exact_z": "  styrke {p} (eksakt binomisk, z-test)",
        "fisher": "  styrke {p} (eksakt binomisk, Fishers eksakte test)",
        "normal": "  styrke {p} (normaltilnærming)",
        "simulated": "  styrke {p} +- {pm} (20 000 simulerte binomiske piloter)",
        "shows_worse": "  sjansen for at piloten viser tiltaket som signifikant DÅRLIGERE: {p} (eksakt "
                       "binomisk, z-test)",
        "model": "  styrke {p} +- {pm} ({r} randomiserte piloter med om lag {people} personer simulert "
                 "gjennom modellen, med dens kapasitet)",
        "model_worse": "    ... og {p} av disse pilotene viser tiltaket som signifikant DÅRLIGERE enn det "
                       "vanlige løpet",
        "model_skipped": "  (modellpiloter hoppet over: {err})",
        "no_control_none": "  uten kontrollgruppe, mot en kjent andel på {pc}: intet resultat av {n} ville "
                           "vært signifikant (ensidig alfa {half})",
        "no_control": "  uten kontrollgruppe, mot en kjent andel på {pc}: signifikant bare med {k} eller "
                      "flere av {n} i arbeid (ensidig alfa {half}); styrke {p}",
        "per_arm_none": "\nPersoner per arm for {target} styrke: ingen (tiltaket ventes å være dårligere, så "
                        "ingen pilotstørrelse gir styrke til å vise en forbedring)",
        "per_arm": "\nPersoner per arm for {target} styrke: {nn} (normalformelen), {ne} (eksakt binomisk, "
                   "z-test); {all} personer i alt",
        "more_than": "mer enn 2 000",
    },
}
"""The words of ``effekt pilot-size``'s power lines, in English and bokmål."""


def _pilot_size(scenario, sizes, measure, p_treatment, p_control, effect, alpha, target,
                replications, no_model_pilots, assignments, executor, decision=None,
                lang: str = "en") -> None:
    from effekt.experiments import formatting as fmt
    from effekt.experiments.analysis import power as pw
    from effekt.experiments.analysis.common import replicate, scenario_with
    from effekt.specfile import SpecError

    given = p_treatment is not None or p_control is not None or effect is not None
    nb = lang == "nb"
    source = "oppgitt" if nb else "given"
    try:
        if decision is not None and scenario is None and not assignments and (
                p_control is None or (p_treatment is None and effect is None)):
            # the results' draws and replications together: the probabilities before the pilot
            est_t, est_c = pw.rates_from_runs(decision.runs, measure)
            p_treatment = est_t if p_treatment is None and effect is None else p_treatment
            p_control = est_c if p_control is None else p_control
            n_runs = fmt.number(len(decision.runs), lang, 0)
            source = ((f"{'delvis ' if given else ''}fra de {n_runs} replikasjonene i "
                       f"{decision.out}") if nb else
                      (f"{'partly ' if given else ''}from the {n_runs} replications of "
                       f"{decision.out}"))
            given, no_model_pilots = True, True  # no scenario file to simulate pilots of
        elif p_control is None or (p_treatment is None and effect is None):
            sc = scenario_with(scenario, assignments=list(assignments))
            runs = replicate(sc, replications, executor=executor)
            est_t, est_c = pw.rates_from_runs(runs, measure)
            p_treatment = est_t if p_treatment is None else p_treatment
            p_control = est_c if p_control is None else p_control
            n_runs = fmt.number(replications, lang, 0)
            source = ((f"{'delvis ' if given else ''}fra {n_runs} replikasjoner av {sc.info.name}"
                       + (f" med {' '.join(assignments)}" if assignments else "")) if nb else
                      (f"{'partly ' if given else ''}from {n_runs} replications of "
                       f"{sc.info.name}" + (f" with {' '.join(assignments)}" if assignments else "")))
    except (SpecError, ValueError) as err:
        _fail(err, lang)
    if effect is not None:
        p_treatment = p_control + effect
        if not 0 <= p_treatment <= 1:
            _fail(say("pilot_not_p", lang, effect=f"{effect:g}", p=f"{p_control:.3f}"), lang)
    if p_treatment == p_control:
        _fail(say("pilot_same_p", lang, p=f"{p_control:.3f}"), lang)
    w = PILOT_WORDS[lang]

    def pc(x: float, decimals: int = 1) -> str:  # in both languages by their formats ("7.5 %", "7,5 %")
        return fmt.percent(x, lang, decimals)

    def pr(x: float) -> str:
        return fmt.number(x, lang, 3)

    def g(x: float) -> str:  # an input as given (0.05, not 0.0500), never e-notation, also in English
        text, point = fmt.general(x, lang), "," if lang == "nb" else "."
        return text.rstrip("0").rstrip(point) if point in text else text

    click.echo(w["outcome"].format(measure=pw.measure_words(measure, lang), pt=pr(p_treatment),
                                   pc=pr(p_control), source=source, alpha=g(alpha)))
    click.echo(w["power_is"].format(half=g(alpha / 2)))
    worse_expected = pw.expected_worse(p_treatment, p_control)
    if worse_expected:
        click.echo(w["worse_expected"].format(pt=pr(p_treatment), pc=pr(p_control)))
    if decision is not None and scenario is None and not assignments:
        from effekt.experiments.design import auxiliary_rng

        rng = auxiliary_rng(decision.seed, "pilot_power")
    else:
        rng = pw.pilot_rng(scenario, list(assignments))
    better = "better"
    for n in sizes:
        click.echo(w["pilot"].format(n=n))
        if n <= 2000:  # the exact sum is over (n + 1)^2 outcomes
            click.echo(w["exact_z"].format(p=pc(pw.power_exact(n, n, p_treatment, p_control, alpha, "z",
                                                                better))))
        if n <= 200:
            click.echo(w["fisher"].format(p=pc(pw.power_exact(n, n, p_treatment, p_control, alpha, "fisher",
                                                               better))))
        click.echo(w["normal"].format(p=pc(pw.power_normal(n, n, p_treatment, p_control, alpha, better))))
        sim, se = pw.power_simulated(n, n, p_treatment, p_control, rng, alpha, alternative=better)
        click.echo(w["simulated"].format(p=pc(sim), pm=pc(1.96 * se)))
        if worse_expected and n <= 2000:
            down = (pw.power_exact(n, n, p_treatment, p_control, alpha, "z")
                    - pw.power_exact(n, n, p_treatment, p_control, alpha, "z", better))
            click.echo(w["shows_worse"].format(p=pc(down)))
        if not no_model_pilots and not given:  # model pilots have the scenario's own rates
            try:
                mp, mse, worse = pw.pilots_through_model(scenario, n, replications, measure, alpha,
                                                         assignments=list(assignments),
                                                         executor=executor)
                click.echo(w["model"].format(p=pc(mp), pm=pc(1.96 * mse), r=replications, people=2 * n))
                if worse > 0:
                    click.echo(w["model_worse"].format(p=pc(worse)))
            except (SpecError, ValueError) as err:
                click.echo(w["model_skipped"].format(err=err))
        b = pw.power_benchmark(n, p_treatment, p_control, alpha / 2)
        if b.critical is None:
            click.echo(w["no_control_none"].format(pc=pr(p_control), n=n, half=g(alpha / 2)))
        else:
            click.echo(w["no_control"].format(pc=pr(p_control), k=b.critical, n=n, half=g(alpha / 2),
                                              p=pc(b.power)))
    if worse_expected:
        click.echo(w["per_arm_none"].format(target=pc(target, 0)))
        return
    nn = pw.n_normal(p_treatment, p_control, alpha, target)
    ne = pw.n_exact(p_treatment, p_control, alpha, target, n_max=2000, alternative=better)
    click.echo(w["per_arm"].format(target=pc(target, 0), nn=nn,
                                   ne=ne if ne is not None else w["more_than"], all=2 * nn))


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--variant", "variants", multiple=True, metavar="NAME:KEY=VALUE",
              help="A variant of the first scenario with this setting (repeat a NAME for more), "
                   "e.g. --variant gloppen:pathway.template=gloppen.")
@click.option("--runs", "replications", type=click.IntRange(min=2),
              help="Replications per scenario (default: the smallest design.replications).")
@click.option("--seed", type=click.IntRange(min=0), help="Common root seed (default: the first's).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Save the long table as CSV (put it in RESULTS/analysis/compare.csv for the report).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False),
              help="Also write a self-contained HTML page with the plot and table.")
@lang_option()
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Applied to every scenario.")
@executor_options
def compare(scenarios, variants, replications, seed, out, html_out, lang, assignments, workers, dask):
    """Run scenarios (and variants of the first) under common random numbers, side by side."""
    from effekt.experiments.analysis.compare import compare as run
    from effekt.experiments.analysis.compare import parse_variants, render
    from effekt.specfile import SpecError

    try:
        with open_executor(workers, dask) as executor:
            table = run(list(scenarios), replications, seed, list(assignments),
                        parse_variants(list(variants)), executor=executor)
    except (SpecError, RuntimeError) as err:
        _fail(err, lang)
    click.echo(render(table, lang))
    _save(table, out)
    if html_out:
        from effekt.experiments.report import render_compare_html

        Path(html_out).write_text(render_compare_html(table, lang, " ".join(scenarios)),
                                  encoding="utf-8")
        click.echo(say("page_written", lang, path=html_out))


@click.command()
@click.argument("results", type=click.Path(file_okay=False, exists=True))
@click.option("--for", "commissioner", default="kommune", show_default=True, metavar="PARTY",
              help="Who decides: kommune, state or public (every public budget); any public party of "
                   "the results.")
@click.option("--wtp", default=WTP_DEFAULT, show_default=True, metavar="START:STOP:STEP",
              help="Willingness to pay per unit of --per: per additional discounted person-year in "
                   "work by default (or A,B,C). The default grid is an assumption: up to about a "
                   "year of the lowest work assessment allowance (AAP, 2 G, about 250 000 kr; "
                   "folketrygdloven § 11-20), in steps fine enough to see the curve rise; give "
                   "your own for --per in_work_24m or additional_outcomes.")
@click.option("--per", default="work_years", show_default=True, metavar="MEASURE",
              help="What λ is per: work_years (additional discounted person-years in work over "
                   "--horizon), a yes/no measure with both arms (in_work_24m: per additional person "
                   "in work at month 24; in_ordinary_work_24m, ...) or additional_outcomes (the "
                   "contract's primary outcome).")
@click.option("--horizon", type=click.Choice(["contract", "long_run"]), default="contract",
              show_default=True,
              help="Count the budget NPV and the person-years over the contract period or over the "
                   "long run (results of a scenario with [world] long_run_years).")
@click.option("--luck", is_flag=True,
              help="Also P(this kull): the chance that one kull, run once, ends in the black (over "
                   "draws and replications).")
@click.option("--at", "at", type=float, metavar="WTP",
              help="Willingness to pay of the EVPPI table (default: where EVPI is largest).")
@click.option("--group", "groups", multiple=True, metavar="NAME=KEY1,KEY2",
              help="EVPPI of uncertain parameters together (repeatable).")
@click.option("--pilot", "pilots", type=click.IntRange(min=1), multiple=True, metavar="N",
              help="Also the value of a pilot of N in the programme (EVSI; repeatable).")
@click.option("--measure", default="in_work_12m", show_default=True,
              help="What a pilot counts (a yes/no measure with both arms).")
@click.option("--bootstrap", type=click.IntRange(min=0), default=200, show_default=True,
              help="Bootstrap resamples of draws and replications for the 95 % intervals (0: none).")
@lang_option()
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write the acceptability curve and EVPI as a PNG here.")
@click.option("--out", type=click.Path(dir_okay=False), help="Save the curve and EVPPI as CSV.")
def decide(results, commissioner, wtp, per, horizon, luck, at, groups, pilots, measure, bootstrap, lang,
           plot_path, out):
    """Is the contract worth signing? Acceptability curve and value of information (EVPI, EVPPI).

    RESULTS is a results directory whose design points draw the uncertain numbers
    ([design.uncertainties], or draws from priors); each point's replications are its luck. The
    net benefit is the commissioner's budget NPV (outcome payments in it) plus WTP per additional
    discounted person-year in work (--per), both over --horizon.
    """
    import numpy as np
    import pandas as pd

    from effekt.experiments.analysis import decision as de
    from effekt.experiments.analysis import decision_report as dr
    from effekt.specfile import SpecError, said

    if horizon == "long_run" and per not in de.LONG_RUN_PERS:  # two windows in one net benefit
        _fail(say("per_long_run", lang, per=per, allowed=", ".join(de.LONG_RUN_PERS)), lang)
    try:
        lams = de.wtp_grid(wtp)
        if not lams:
            raise SpecError("--wtp", [said(f"'{wtp}': no values", f"'{wtp}': ingen verdier")])
        res = de.load_decision(results, commissioner, per, pilot_measure=measure if pilots else None,
                               horizon=horizon)
        named = de.parse_groups(groups, res.uncertain)
    except (SpecError, FileNotFoundError) as err:
        _fail(err, lang)
    rng = de.decision_rng(res.seed)
    curves, tables = [], []
    for d in res.draws:
        click.echo("\n".join(dr.header(res, d, lang)))
        curve = de.value_curve(d, lams, bootstrap, rng) if d.has_draws else de.value_curve(d, lams)
        click.echo(dr.curve_table(curve, lang, res.currency, luck, d.has_draws, dr.per_unit(res, lang)))
        click.echo("\n".join(dr.curve_notes(curve, lang, luck, d.has_draws)))
        label = dr.policy_label(d)
        curves.append((label, curve))
        tables.append(curve.assign(table="curve", policy=label))
        if not d.has_draws:
            click.echo(dr.no_draws_line(d, lang))
        else:
            lam = at if at is not None else float(curve["wtp"].iloc[int(np.argmax(curve["evpi"]))])
            ev = de.evppi_table(d, sorted({*lams, lam}), named, bootstrap, rng)
            click.echo("")
            click.echo("\n".join(dr.evppi_lines(ev, lam, at is not None, lang, res.currency,
                                                float(np.mean(d.participants)))))
            tables.append(ev.assign(table="evppi", policy=label))
            if pilots:
                click.echo("")
                click.echo("\n".join(_pilot_values(d, pilots, lam, res, bootstrap, lang, measure)))
        rows = res.runs[res.runs["point"].isin(d.points)]
        line = dr.investor_line(de.investor_risk(rows, res.runs.attrs.get("kpis")), lang)
        if line:
            click.echo("")
            click.echo("\n".join(line))
        click.echo("")
    if plot_path:
        click.echo(dr.words(lang)["saved"].format(path=dr.plot(curves, plot_path, lang, res.currency, luck,
                                                               dr.per_axis(res, lang))))
    if out:
        _save(pd.concat(tables, ignore_index=True), out)


def _pilot_values(d, sizes, wtp: float, res, bootstrap: int, lang: str, measure: str) -> list[str]:
    """The lines of the value of pilots of ``sizes`` (two-arm and programme-only) at ``wtp``, or
    the reason there is none."""
    from effekt.experiments.analysis import decision as de
    from effekt.experiments.analysis import decision_report as dr
    from effekt.experiments.analysis.power import pilot_values

    w = dr.words(lang)
    if not d.has_draws:
        return [dr.no_draws_line(d, lang)]
    try:
        values = pilot_values(d, sizes, wtp, res.seed, bootstrap)
    except de.TooFewDraws as err:
        return [w["pilot_none"].format(why=w["too_few"].format(draws=err.draws, k=err.variables))]
    except de.NoDraws:
        return [w["pilot_none"].format(why=w["no_shares"].format(measure=measure))]
    return dr.pilot_lines(values, lang, res.currency, measure)


def register(main: click.Group) -> None:
    """Add the analysis commands to the ``effekt`` command group."""
    for cmd in (report, breakeven, sensitivity, pilot_size, compare, decide):
        main.add_command(cmd)

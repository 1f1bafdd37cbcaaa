"""Every help text of the ``effekt`` command line in bokmål, beside its English.

The English is written where each command and option is defined (experiments/cli.py and
cli_*.py: a command's docstring, an option's ``help=``, a string ``show_default`` and a metavar);
this table gives each English text its bokmål, as a gettext catalogue gives each msgid its
msgstr, so a reviewer reads the two side by side. :mod:`effekt.experiments.cli_help` shows the
bokmål when the invocation is in bokmål. A new option, or a changed English text, without a line
here fails tests/test_cli_help_nb.py (which also refuses lines no command uses any more).

Bokmål style: option names, keys, file names and code names (``--runs``, ``design.replications``,
``in_work_24m``) stay as the user types them; the arguments' placeholders (SCENARIO, RESULTS, OUT,
FILE, NAME) too, since click's messages name them ("Mangler argumentet 'SCENARIO'").
Imported only when an invocation is in bokmål.
"""

from __future__ import annotations

HELP_NB: dict[str, str] = {
    # -- effekt (the group) ------------------------------------------------------------------------
    "Simulate effektkontrakter (social impact bonds) in employment.\n"
    "\n"
    "Cohorts of people from outside the labour market flow through a qualification pathway; an\n"
    "outcome contract turns what happens to them into payments for investors, the provider, the\n"
    "kommune and the state. Start with `effekt run`.":
        "Simuler effektkontrakter (social impact bonds) for arbeid og inkludering.\n"
        "\n"
        "Kull av personer utenfor arbeidslivet går gjennom et kvalifiseringsløp; en resultatkontrakt gjør "
        "det som skjer med dem, om til betalinger for investorer, leverandøren, kommunen og staten. Begynn "
        "med `effekt run`.",
    "Language of the help pages and messages of every command (Norwegian bokmål or English).":
        "Språket i hjelpesidene og meldingene til alle kommandoene (norsk bokmål eller engelsk).",
    "nb; en when LC_ALL, LC_MESSAGES or LANG starts with en":
        "nb; en når LC_ALL, LC_MESSAGES eller LANG begynner med en",
    # -- effekt app --------------------------------------------------------------------------------
    "Start the interactive explorer: a local web page on top of the scenario files (SCENARIO:\n"
    "the file it starts from; without it the built-in default).":
        "Start den interaktive utforskeren: en lokal nettside oppå scenariofilene (SCENARIO: filen den "
        "begynner fra; uten den det innebygde standardscenariet).",
    "Port to listen on (0: any free port).":
        "Porten siden lytter på (0: en hvilken som helst ledig port).",
    "Address to listen on; anything but loopback shows the page to other machines, which has no "
    "authentication.":
        "Adressen siden lytter på; alt annet enn loopback viser siden til andre maskiner, og den har ingen "
        "innlogging.",
    "Do not open the browser.":
        "Ikke åpne nettleseren.",
    "Folder for the runs' results directories (one per run).":
        "Mappen for kjøringenes resultatmapper (én per kjøring).",
    "Local worker processes shared by the page's runs.":
        "Lokale arbeidsprosesser som sidens kjøringer deler.",
    "Run on a Dask cluster (tcp://host:8786, or 'local'; pip install 'effekt[dask]') instead of local "
    "processes.":
        "Kjør på en Dask-klynge (tcp://host:8786, eller 'local'; pip install 'effekt[dask]') i stedet for "
        "lokale prosesser.",
    "Language of the page and these messages (Norwegian bokmål or English).":
        "Språket på siden og i disse meldingene (norsk bokmål eller engelsk).",
    # -- effekt run, batch, sweep (shared options) -------------------------------------------------
    "Run the replications of SCENARIO into --out (no summary; resumes when rerun).":
        "Kjør replikasjonene av SCENARIO inn i --out (uten sammendrag; fortsetter der den stoppet når den "
        "kjøres igjen).",
    "Replications per design point (default: the scenario's design.replications).":
        "Replikasjoner per designpunkt (standard: scenariets design.replications).",
    "Root seed (default: the scenario's).":
        "Rotfrø for tilfeldige tall (standard: scenariets).",
    "Outer draws of the numbers the files give as priors (two-level Monte Carlo: each draw runs the --runs "
    "replications with the same seeds; default: design.parameters.draws, else none, every prior at its "
    "point value).":
        "Ytre trekk av tallene filene gir som priorfordelinger (Monte Carlo i to nivåer: hvert trekk "
        "kjører --runs replikasjoner med de samme frøene; standard: design.parameters.draws, ellers ingen, "
        "hver priorfordeling ved punktverdien).",
    "Results directory (default: results/<scenario name>).":
        "Resultatmappe (standard: results/<scenarionavn>).",
    "Local worker processes, or workers of --dask local (default: all cores; 1 runs in this process).":
        "Lokale arbeidsprosesser, eller arbeidere i --dask local (standard: alle kjerner; 1 kjører i denne "
        "prosessen).",
    "Run on Dask: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster (pip install "
    "'effekt[dask]'). 'local' first starts a cluster on this machine, which takes seconds: it is for "
    "trying a Dask set-up. On one machine --workers is faster; a cluster started once (dask scheduler, "
    "dask worker) is reused by every command given its address.":
        "Kjør på Dask: adressen til en planlegger (tcp://host:8786) eller 'local' for en LocalCluster (pip "
        "install 'effekt[dask]'). 'local' starter først en klynge på denne maskinen, noe som tar sekunder: "
        "det er for å prøve et Dask-oppsett. På én maskin er --workers raskere; en klynge som er startet "
        "én gang (dask scheduler, dask worker), brukes på nytt av hver kommando som får adressen.",
    "Replications per task (default: about one second of work).":
        "Replikasjoner per oppgave (standard: omtrent ett sekunds arbeid).",
    "Also store record tables, comma-separated: persons,events,spells.":
        "Lagre også posttabeller, kommaseparert: persons,events,spells.",
    "Override a scenario key, e.g. --set contract.prices.job_start=60000.":
        "Overstyr en nøkkel i scenariet, f.eks. --set contract.prices.job_start=60000.",
    "Delete the effekt results in --out and start again (a directory without manifest.json is never "
    "deleted).":
        "Slett effekt-resultatene i --out og begynn på nytt (en mappe uten manifest.json slettes aldri).",
    "No progress bar and no summary.":
        "Ingen fremdriftslinje og ikke noe sammendrag.",
    "Run (or accept) a scenario larger than this machine's memory or than 10 000 design points; without it "
    "such a scenario is refused before anything runs, naming the number to lower.":
        "Kjør (eller godta) et scenario som er større enn minnet på denne maskinen eller har mer enn 10 "
        "000 designpunkter; uten dette valget avvises et slikt scenario før noe kjøres, med tallet som må "
        "ned.",
    "Language of the messages and the progress bar (Norwegian bokmål or English).":
        "Språket i meldingene og fremdriftslinjen (norsk bokmål eller engelsk).",
    # -- effekt breakeven --------------------------------------------------------------------------
    "The value of one scenario number at which the investor, the kommune, the state or the\n"
    "public budgets break even, with the metric named.":
        "Verdien av ett tall i scenariet der investoren, kommunen, staten eller de offentlige budsjettene "
        "går i balanse, med målet navngitt.",
    "Who breaks even: investor, kommune, state or public (all public budgets; 'commissioner' is an older "
    "name for it).":
        "Hvem som går i balanse: investor, kommune, state (staten) eller public (alle offentlige "
        "budsjetter; 'commissioner' er et eldre navn på det).",
    "Dotted scenario key, e.g. contract.prices.job_sustained or world.cohorts[0].size.":
        "Punktnøkkel i scenariet, f.eks. contract.prices.job_sustained eller world.cohorts[0].size.",
    "Break-even level of the metric (e.g. 0.05 for a 5 % IRR; default: money multiple 1, probability of "
    "loss 0.5, NPV 0, IRR 0).":
        "Balansenivået for målet (f.eks. 0.05 for 5 % internrente; standard: pengemultippel 1, "
        "tapssannsynlighet 0.5, nåverdi 0, internrente 0).",
    "investor: multiple (default: mean money multiple = 1), loss (probability of loss = 50 %), npv or irr "
    "(undefined IRRs are counted in the output); kommune, state, public: npv (their fiscal NPV, outcome "
    "payments included).":
        "investor: multiple (standard: gjennomsnittlig pengemultippel = 1), loss (tapssannsynlighet = 50 "
        "%), npv eller irr (udefinerte internrenter telles i utskriften); kommune, state, public: npv "
        "(deres offentlige nåverdi, med resultatbetalingene).",
    "Lowest value tried (default 0).":
        "Laveste verdi som prøves (standard 0).",
    "Highest value tried (default twice the scenario's).":
        "Høyeste verdi som prøves (standard det dobbelte av scenariets).",
    "Number of values tried, evenly from --low to --high.":
        "Antall verdier som prøves, jevnt fordelt fra --low til --high.",
    "Replications per value (the same seeds for every value).":
        "Replikasjoner per verdi (de samme frøene for hver verdi).",
    "Bootstrap resamples of the replications for the break-even value's interval (0: none).":
        "Bootstrap-utvalg av replikasjonene for intervallet til balanseverdien (0: ingen).",
    "Language of what is printed: Norwegian bokmål or English.":
        "Språket i det som skrives ut: norsk bokmål eller engelsk.",
    # -- effekt calibrate --------------------------------------------------------------------------
    "Calibrate a pathway to published counts: FILE is a calibration file or a built-in name\n"
    "(springbrett). Writes the posterior a scenario draws from with { calibrated = \"<name>\" }.":
        "Kalibrer et forløp mot publiserte tall: FILE er en kalibreringsfil eller et innebygd navn "
        "(springbrett). Skriver posteriorfordelingen et scenario trekker fra med { calibrated = \"<name>\" "
        "}.",
    "Folder for <name>.posterior.toml ({ calibrated = \"<name>\" } looks in ./calibrations).":
        "Mappe for <name>.posterior.toml ({ calibrated = \"<name>\" } ser i ./calibrations).",
    "Particles per generation (default: the file's).":
        "Partikler per generasjon (standard: filens).",
    "Generations at most (default: the file's).":
        "Høyst så mange generasjoner (standard: filens).",
    "Final tolerance in counts (default: the file's; 0 is exact ABC).":
        "Endelig toleranse i antall personer (standard: filens; 0 er eksakt ABC).",
    "Root seed (default: the file's).":
        "Rotfrø for tilfeldige tall (standard: filens).",
    "No progress bar.":
        "Ingen fremdriftslinje.",
    # -- effekt compare ----------------------------------------------------------------------------
    "Run scenarios (and variants of the first) under common random numbers, side by side.":
        "Kjør scenarier (og varianter av det første) med felles tilfeldige tall, side om side.",
    "A variant of the first scenario with this setting (repeat a NAME for more), e.g. --variant "
    "gloppen:pathway.template=gloppen.":
        "En variant av det første scenariet med denne innstillingen (gjenta et NAVN for flere), f.eks. "
        "--variant gloppen:pathway.template=gloppen.",
    "Replications per scenario (default: the smallest design.replications).":
        "Replikasjoner per scenario (standard: den minste design.replications).",
    "Common root seed (default: the first's).":
        "Felles rotfrø (standard: det førstes).",
    "Save the long table as CSV (put it in RESULTS/analysis/compare.csv for the report).":
        "Lagre den lange tabellen som CSV (legg den i RESULTS/analysis/compare.csv for rapporten).",
    "Also write a self-contained HTML page with the plot and table.":
        "Skriv også en selvstendig HTML-side med figuren og tabellen.",
    "Applied to every scenario.":
        "Gjelder for hvert scenario.",
    # -- effekt decide -----------------------------------------------------------------------------
    "Is the contract worth signing? Acceptability curve and value of information (EVPI, EVPPI).\n"
    "\n"
    "RESULTS is a results directory whose design points draw the uncertain numbers\n"
    "([design.uncertainties], or draws from priors); each point's replications are its luck. The\n"
    "net benefit is the commissioner's budget NPV (outcome payments in it) plus WTP per additional\n"
    "discounted person-year in work (--per), both over --horizon.":
        "Er kontrakten verdt å signere? Akseptkurve og verdien av informasjon (EVPI, EVPPI).\n"
        "\n"
        "RESULTS er en resultatmappe der designpunktene trekker de usikre tallene ([design.uncertainties], "
        "eller trekk fra priorfordelinger); replikasjonene i hvert punkt er flaksen. Nettonytten er "
        "oppdragsgiverens budsjettnåverdi (med resultatbetalingene) pluss betalingsvilje per ekstra "
        "diskontert personår i arbeid (--per), begge over --horizon.",
    "Who decides: kommune, state or public (every public budget); any public party of the results.":
        "Hvem som bestemmer: kommune, state (staten) eller public (alle offentlige budsjetter); en hvilken "
        "som helst offentlig part i resultatene.",
    "Willingness to pay per unit of --per: per additional discounted person-year in work by default (or "
    "A,B,C). The default grid is an assumption: up to about a year of the lowest work assessment allowance "
    "(AAP, 2 G, about 250 000 kr; folketrygdloven § 11-20), in steps fine enough to see the curve rise; "
    "give your own for --per in_work_24m or additional_outcomes.":
        "Betalingsvilje per enhet av --per: per ekstra diskontert personår i arbeid som standard (eller "
        "A,B,C). Standardrutenettet er en antakelse: opp til omtrent ett år med laveste "
        "arbeidsavklaringspenger (AAP, 2 G, omtrent 250 000 kr; folketrygdloven § 11-20), i steg fine nok "
        "til å se kurven stige; gi ditt eget for --per in_work_24m eller additional_outcomes.",
    "What λ is per: work_years (additional discounted person-years in work over --horizon), a yes/no "
    "measure with both arms (in_work_24m: per additional person in work at month 24; in_ordinary_work_24m, "
    "...) or additional_outcomes (the contract's primary outcome).":
        "Hva λ er per: work_years (ekstra diskonterte personår i arbeid over --horizon), et ja/nei-mål med "
        "begge armer (in_work_24m: per ekstra person i arbeid i måned 24; in_ordinary_work_24m, ...) eller "
        "additional_outcomes (kontraktens primære resultat).",
    "Count the budget NPV and the person-years over the contract period or over the long run (results of a "
    "scenario with [world] long_run_years).":
        "Tell budsjettnåverdien og personårene over kontraktsperioden eller på lang sikt (resultater av et "
        "scenario med long_run_years i [world]).",
    "Also P(this kull): the chance that one kull, run once, ends in the black (over draws and "
    "replications).":
        "Også P(dette kullet): sjansen for at ett kull, kjørt én gang, går med overskudd (over trekk og "
        "replikasjoner).",
    "Willingness to pay of the EVPPI table (default: where EVPI is largest).":
        "Betalingsviljen i EVPPI-tabellen (standard: der EVPI er størst).",
    "EVPPI of uncertain parameters together (repeatable).":
        "EVPPI for usikre parametre sammen (kan gjentas).",
    "Also the value of a pilot of N in the programme (EVSI; repeatable).":
        "Også verdien av en pilot med N i tiltaket (EVSI; kan gjentas).",
    "What a pilot counts (a yes/no measure with both arms).":
        "Hva en pilot teller (et ja/nei-mål med begge armer).",
    "Bootstrap resamples of draws and replications for the 95 % intervals (0: none).":
        "Bootstrap-utvalg av trekk og replikasjoner for 95 %-intervallene (0: ingen).",
    "Write the acceptability curve and EVPI as a PNG here.":
        "Skriv akseptkurven og EVPI som PNG hit.",
    "Save the curve and EVPPI as CSV.":
        "Lagre kurven og EVPPI som CSV.",
    # -- effekt export -----------------------------------------------------------------------------
    "Export results directory OUT for Excel: --xlsx FILE (a workbook with the sheets\n"
    "Sammendrag, Budsjett per år, KPI-er and Forutsetninger; in English with --lang en) and/or\n"
    "--csv DIR (the same tables as CSV). Numbers are stored as numbers with Excel number formats,\n"
    "so Excel shows them in its own locale.":
        "Eksporter resultatmappen OUT for Excel: --xlsx FILE (en arbeidsbok med arkene Sammendrag, "
        "Budsjett per år, KPI-er og Forutsetninger; på engelsk med --lang en) og/eller --csv DIR (de samme "
        "tabellene som CSV). Tall lagres som tall med Excels tallformater, så Excel viser dem i sin egen "
        "nasjonale innstilling.",
    "Write an Excel workbook: summary, budgets by year, KPIs, assumptions with sources.":
        "Skriv en Excel-arbeidsbok: sammendrag, budsjetter per år, nøkkeltall, forutsetninger med kilder.",
    "Write the same tables as CSV files into this folder (';' and decimal commas with --lang nb, for "
    "Norwegian Excel).":
        "Skriv de samme tabellene som CSV-filer i denne mappen (';' og desimalkomma med --lang nb, for "
        "norsk Excel).",
    "The design point of a sweep to export.":
        "Designpunktet i et parametersveip som skal eksporteres.",
    "Replace an existing workbook or CSV files.":
        "Erstatt en arbeidsbok eller CSV-filer som finnes fra før.",
    "Language of the sheets, headers and labels (Norwegian bokmål or English).":
        "Språket i ark, overskrifter og etiketter (norsk bokmål eller engelsk).",
    # -- effekt init -------------------------------------------------------------------------------
    "Write a scenario file from a few questions (pathway, target groups, cohort size, contract,\n"
    "prices, who pays, replications), or from an Excel input sheet. The file names the built-in\n"
    "pathway and contract as templates, marks every answer as an assumption, and is validated\n"
    "before the command ends.":
        "Skriv en scenariofil fra noen få spørsmål (forløp, målgrupper, kullstørrelse, kontrakt, priser, "
        "hvem som betaler, replikasjoner), eller fra et utfylt Excel-ark. Filen bruker det innebygde "
        "forløpet og den innebygde kontrakten som maler, merker hvert svar som en antakelse, og valideres "
        "før kommandoen avslutter.",
    "The scenario file to write (default: <name>.toml in this folder).":
        "Scenariofilen som skal skrives (standard: <name>.toml i denne mappen).",
    "Take the answers from a filled-in input sheet instead of asking.":
        "Ta svarene fra et utfylt inndataark i stedet for å spørre.",
    "Only write the blank input sheet (Excel) to this file, to fill in and pass to --from-xlsx.":
        "Skriv bare det tomme inndataarket (Excel) til denne filen, for å fylle ut og gi til --from-xlsx.",
    "Overwrite an existing file.":
        "Skriv over en fil som finnes fra før.",
    "Language of the questions and messages (Norwegian bokmål or English).":
        "Språket i spørsmålene og meldingene (norsk bokmål eller engelsk).",
    # -- effekt national ---------------------------------------------------------------------------
    "Run every kommune of a national scenario as shards (kommune x replications) and sum them to\n"
    "fylke and nation. SCENARIO is a national scenario file (default: the built-in 'national', each\n"
    "of Norway's kommuner one Kongsberg-style kull). --dask ADDRESS runs the shards on a cluster.":
        "Kjør hver kommune i et nasjonalt scenario som delkjøringer (kommune x replikasjoner) og summer "
        "dem til fylke og land. SCENARIO er en nasjonal scenariofil (standard: den innebygde 'national', "
        "hver av Norges kommuner ett kull som i Kongsberg). --dask ADDRESS kjører delkjøringene på en "
        "klynge.",
    "Replications per kommune (default: the file's national.replications).":
        "Replikasjoner per kommune (standard: filens national.replications).",
    "Only this kommune (or fylke) number; repeat for more (default: the file's include, else all).":
        "Bare dette kommune- (eller fylkes-)nummeret; gjenta for flere (standard: filens include, ellers "
        "alle).",
    "Results directory (default: results/<name>).":
        "Resultatmappe (standard: results/<name>).",
    "Replications per shard (default: about one second of work).":
        "Replikasjoner per delkjøring (standard: omtrent ett sekunds arbeid).",
    "Delete the effekt results in --out and start again.":
        "Slett effekt-resultatene i --out og begynn på nytt.",
    "Language of the summary printed after the run (Norwegian bokmål or English).":
        "Språket i sammendraget etter kjøringen (norsk bokmål eller engelsk).",
    # -- effekt pathways ---------------------------------------------------------------------------
    "The built-in pathways (stage graphs of qualification programmes).":
        "De innebygde forløpene (kvalifiseringsprogrammenes trinn og veiene mellom dem).",
    "Name, title, number of stages and source of each built-in pathway.":
        "Navn, tittel, antall trinn og kilde for hvert innebygde forløp.",
    "Language of the titles and words (Norwegian bokmål or English).":
        "Språket i titlene og ordene (norsk bokmål eller engelsk).",
    "Outline of pathway NAME (a built-in name or a pathway .toml file).":
        "Oversikt over forløpet NAME (et innebygd navn eller en forløpsfil i .toml).",
    # -- effekt pilot-size -------------------------------------------------------------------------
    "Could a pilot of N people show a difference? Power, and the N needed (BLT: Test); with\n"
    "--results, what each pilot is worth before signing.":
        "Kan en pilot med N personer vise en forskjell? Teststyrke, og N som trengs (BLT: Test); med "
        "--results, hva hver pilot er verdt før signering.",
    "Pilot size(s): people in the programme (and as many controls).":
        "Pilotstørrelse(r): personer i tiltaket (og like mange i kontrollgruppen).",
    "Yes/no outcome with _treatment and _control KPIs (in_work_12m, in_work_24m, in_ordinary_work_12m, "
    "in_work_or_education_12m, ...).":
        "Ja/nei-resultat med _treatment- og _control-nøkkeltall (in_work_12m, in_work_24m, "
        "in_ordinary_work_12m, in_work_or_education_12m, ...).",
    "Success probability with the programme (default: from simulating the scenario).":
        "Sannsynligheten for å lykkes med tiltaket (standard: fra simulering av scenariet).",
    "... and without it.":
        "... og uten det.",
    "The effect to detect, as a difference in probability (0.1 = 10 percentage points): sets the "
    "programme's probability to the counterfactual's plus this.":
        "Effekten som skal påvises, som en forskjell i sannsynlighet (0.1 = 10 prosentpoeng): setter "
        "tiltakets sannsynlighet til den kontrafaktiske pluss dette.",
    "Significance level of the test.":
        "Signifikansnivået for testen.",
    "Power wanted: the N needed is the smallest pilot with at least this power.":
        "Ønsket teststyrke: N som trengs, er den minste piloten med minst denne teststyrken.",
    "Replications to estimate the probabilities, and model-simulated pilots.":
        "Replikasjoner for å anslå sannsynlighetene, og modellsimulerte piloter.",
    "Skip simulating whole pilots through the model.":
        "Hopp over å simulere hele piloter gjennom modellen.",
    "Also the value of each pilot before signing (EVSI), from a results directory with parameter draws; "
    "without SCENARIO and probabilities, the probabilities come from it too.":
        "Også verdien av hver pilot før signering (EVSI), fra en resultatmappe med parametertrekk; uten "
        "SCENARIO og sannsynligheter kommer sannsynlighetene også derfra.",
    "With --results: who decides (kommune, state, public).":
        "Med --results: hvem som bestemmer (kommune, state, public).",
    "With --results: willingness to pay per additional person in work.":
        "Med --results: betalingsvilje per ekstra person i arbeid.",
    "With --results: what an additional person in work is (see effekt decide).":
        "Med --results: hva en ekstra person i arbeid er (se effekt decide).",
    "With --results: language of the value lines.":
        "Med --results: språket i verdilinjene.",
    # -- effekt report -----------------------------------------------------------------------------
    "One self-contained HTML report of a results directory: summary, caveats and figures.\n"
    "\n"
    "Picks up RESULTS/analysis/sensitivity_oat.csv (tornado), sensitivity_morris.csv,\n"
    "sensitivity_sobol.csv and compare.csv when present.":
        "Én selvstendig HTML-rapport for en resultatmappe: sammendrag, forbehold og figurer.\n"
        "\n"
        "Tar med RESULTS/analysis/sensitivity_oat.csv (tornado), sensitivity_morris.csv, "
        "sensitivity_sobol.csv og compare.csv når de finnes.",
    "HTML file (default: RESULTS/report.html).":
        "HTML-fil (standard: RESULTS/report.html).",
    "Norwegian bokmål or English labels and numbers.":
        "Etiketter og tall på norsk bokmål eller engelsk.",
    "Design point to report.":
        "Designpunktet rapporten viser.",
    "Replications re-simulated for time series and the funnel.":
        "Replikasjoner som simuleres på nytt for tidsserier og trakten.",
    # -- effekt run --------------------------------------------------------------------------------
    "Run SCENARIO (a TOML file; without it the built-in default) and summarise.\n"
    "\n"
    "Runs the scenario as written (a [design] sweep is left to `effekt sweep`). Results are\n"
    "written as Parquet under --out; a run that was stopped resumes where it left off when started\n"
    "again with the same command.":
        "Kjør SCENARIO (en TOML-fil; uten den det innebygde standardscenariet) og oppsummer.\n"
        "\n"
        "Kjører scenariet slik det er skrevet (et parametersveip i [design] er for `effekt sweep`). "
        "Resultatene skrives som Parquet under --out; en kjøring som ble stoppet, fortsetter der den slapp "
        "når den startes igjen med samme kommando.",
    # -- effekt sensitivity ------------------------------------------------------------------------
    "Which uncertain numbers move an outcome: tornado (oat), Morris or Sobol (SALib).":
        "Hvilke usikre tall som flytter et resultat: tornado (oat), Morris eller Sobol (SALib).",
    "An uncertain number and its range (bare KEY: +-20 % around its value). Default: the numbers the "
    "scenario's files give as priors (the tornado at their 5 % and 95 % quantiles, Morris and Sobol "
    "through their quantile functions), its [design.uncertainties] and numeric [design.levers].":
        "Et usikkert tall og spennet det har (bare NØKKEL: +-20 % rundt verdien). Standard: tallene "
        "scenariets filer gir som priorfordelinger (tornadoen ved 5 %- og 95 %-kvantilene, Morris og Sobol "
        "gjennom kvantilfunksjonene), [design.uncertainties] og numeriske [design.levers].",
    "oat: one number at a time (a tornado); morris: elementary effects; sobol: variance shares.":
        "oat: ett tall om gangen (en tornado); morris: elementære effekter; sobol: andeler av variansen.",
    "KPI to explain.":
        "Nøkkeltallet som skal forklares.",
    "Replications per sample point (common random numbers).":
        "Replikasjoner per punkt i utvalget (felles tilfeldige tall).",
    "Sobol: base samples (power of two); Morris: trajectories.":
        "Sobol: grunnutvalg (en potens av to); Morris: baner.",
    "Seed of the parameter sample.":
        "Frøet for utvalget av parametre.",
    "Save the table as CSV.":
        "Lagre tabellen som CSV.",
    # -- effekt summary ----------------------------------------------------------------------------
    "KPI table of a results directory: mean, 95 % CI, P5/P50/P95 (per design point for sweeps),\n"
    "and, as text or markdown, the budgets per year below it.\n"
    "\n"
    "Indicators (investor_loss, cap_binding) have a probability as their mean. The budgets per\n"
    "year are each party's flows by year, the programme minus the control arm, nominal, in the\n"
    "scenario's currency, mean over replications (from budgets/; --budgets shows them alone, in any\n"
    "--format).":
        "Nøkkeltallstabell for en resultatmappe: gjennomsnitt, 95 %-KI, P5/P50/P95 (per designpunkt for "
        "parametersveip), og, som tekst eller markdown, budsjettene per år under den.\n"
        "\n"
        "Indikatorer (investor_loss, cap_binding) har en sannsynlighet som gjennomsnitt. Budsjettene per "
        "år er hver parts strømmer per år, tiltaket minus kontrollarmen, nominelt, i scenariets valuta, "
        "gjennomsnitt over replikasjonene (fra budgets/; --budgets viser dem alene, i hvilket som helst "
        "--format).",
    "text for the terminal, csv for Excel, json, or markdown.":
        "text for terminalen, csv for Excel, json eller markdown.",
    "Language of the labels and numbers (Norwegian bokmål or English).":
        "Språket i etiketter og tall (norsk bokmål eller engelsk).",
    "Only the budgets per year (each party by year, programme minus control, nominal).":
        "Bare budsjettene per år (hver part per år, tiltaket minus kontrollarmen, nominelt).",
    "Only these KPIs' rows (code names as in --lang en or the CSV, e.g. investor_loss,fiscal_npv_kommune); "
    "the budgets and windows are then left out.":
        "Bare radene for disse nøkkeltallene (kodenavn som med --lang en eller i CSV-en, f.eks. "
        "investor_loss,fiscal_npv_kommune); budsjettene og vinduene utelates da.",
    # -- effekt sweep ------------------------------------------------------------------------------
    "Run every design point of SCENARIO's [design] section into --out (resumes when rerun).":
        "Kjør hvert designpunkt i [design]-delen av SCENARIO inn i --out (fortsetter der den stoppet når "
        "den kjøres igjen).",
    # -- effekt validate ---------------------------------------------------------------------------
    "Check SCENARIO and every design point of it without running anything; a large scenario is\n"
    "also measured on pilot replications (time and memory), and refused if it cannot fit.":
        "Kontroller SCENARIO og hvert designpunkt i det uten å kjøre noe; et stort scenario måles også på "
        "pilotreplikasjoner (tid og minne), og avvises hvis det ikke får plass.",
    "Language of the messages (Norwegian bokmål or English).":
        "Språket i meldingene (norsk bokmål eller engelsk).",
}
"""English help text (as ``inspect.cleandoc`` leaves it) -> its bokmål."""

METAVARS_NB: dict[str, str] = {
    "ADDRESS": "ADRESSE",
    "NAMES": "NAVN",
    "KEY=VALUE": "NØKKEL=VERDI",
    "PARTY": "PART",
    "KEY": "NØKKEL",
    "NAME:KEY=VALUE": "NAVN:NØKKEL=VERDI",
    "START:STOP:STEP": "START:SLUTT:STEG",
    "MEASURE": "MÅL",
    "WTP": "BELØP",
    "NAME=KEY1,KEY2": "NAVN=NØKKEL1,NØKKEL2",
    "N": "N",
    "NUMBER": "NUMMER",
    "KEY[=LOW:HIGH]": "NØKKEL[=LAV:HØY]",
    "NAME[,NAME]": "NAVN[,NAVN]",
}
"""The options' placeholders in bokmål (what the user types there is unchanged)."""

TYPE_NAMES_NB: dict[str, str] = {
    # click's value types: the placeholder (INTEGER -> HELTALL) and the word in click's messages
    # ("'x' is not a valid integer." -> "'x' er ikke et gyldig heltall.", "File 'x' does not exist.")
    "integer": "heltall",
    "integer range": "heltall",
    "float": "desimaltall",
    "float range": "desimaltall",
    "text": "tekst",
    "boolean": "sannhetsverdi",
    "choice": "valg",
    "file": "fil",
    "directory": "mappe",
    "path": "sti",
    "filename": "filnavn",
}
"""click's type names (``ParamType.name``) in bokmål."""

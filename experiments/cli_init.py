"""``effekt init``: write a scenario file from a few questions at the terminal, or from a filled-in
Excel input sheet (``--from-xlsx``), or write the blank input sheet (``--xlsx-template``). The
answers and the file: :mod:`effekt.experiments.init_scenario`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option


def _unwritable(path: str | Path, err: OSError, lang: str) -> str:
    """A file that cannot be written, with the system's reason, in ``lang``."""
    reason = err.strerror or err
    return (f"{path}: kan ikke skrives ({reason})" if lang == "nb" else
            f"{path}: cannot be written ({reason})")


def _number(lang: str, low: float, high: float | None = None, whole: bool = False):
    """A prompt's reader of a number as people type it: ``150 000``, ``0,5`` or ``0.5``, checked
    against ``low`` (and ``high``); the message in the prompt's language."""
    from effekt.toml_text import plain_number

    def read(text: str | float) -> float | int:
        if isinstance(text, int | float):
            return text
        raw = str(text).strip()
        value = plain_number(raw)
        if value is None:
            try:
                value = float(raw)
            except ValueError:
                value = None
        more = " eller mer" if lang == "nb" else " or more"
        bound = f"{low:g}" + (f"-{high:g}" if high is not None else more)
        outside = value is not None and (value < low or (high is not None and value > high))
        if value is None or outside or (whole and value != int(value)):
            nb = "et heltall" if whole else "et tall"
            what = nb if lang == "nb" else ("a whole number" if whole else "a number")
            said = f"'{raw}' går ikke: skriv {what}, {bound}" if lang == "nb" else \
                f"'{raw}' will not do: write {what}, {bound}"
            raise click.BadParameter(said)
        return int(value) if whole else float(value)

    return read


def _ask(lang: str):
    """The answers, asked one by one (the defaults those of the built-in default scenario)."""
    from effekt.experiments.init_scenario import (
        NAME,
        WORDS,
        Answers,
        contracts,
        group_title,
        groups,
        parse_groups,
        pathways,
    )

    w, d = WORDS[lang], Answers()

    def name(text: str) -> str:
        if not NAME.match(text.strip()):
            raise click.BadParameter(w["a_name"])
        return text.strip()

    def mix(text: str) -> dict[str, float]:
        try:
            return parse_groups(text)
        except ValueError:
            raise click.BadParameter(w["groups_prompt"].format(known=", ".join(groups()))) from None

    a = Answers(prices={})
    a.name = click.prompt(w["name"], default=d.name, value_proc=name)
    a.title = click.prompt(w["title"], default=d.title)
    for n, title in pathways(lang).items():
        click.echo(f"  {n}: {title}")
    a.pathway = click.prompt(w["pathway_prompt"], type=click.Choice(list(pathways())), default=d.pathway,
                             show_choices=False)
    for g in groups():
        click.echo(f"  {g}: {group_title(g, lang)}")
    default_mix = ",".join(f"{g}={s}" for g, s in d.groups.items())
    a.groups = click.prompt(w["groups_prompt"].format(known=", ".join(groups())), default=default_mix,
                            value_proc=mix)
    a.size = click.prompt(w["size"], default=d.size, value_proc=_number(lang, 1, whole=True))
    for n, c in contracts().items():
        click.echo(f"  {n}: {c['title_nb'] if lang == 'nb' else c['title']}")
    a.contract = click.prompt(w["contract_prompt"], type=click.Choice(list(contracts())), default=d.contract,
                              show_choices=False)
    template = contracts()[a.contract]
    for outcome, price in template["prices"].items():
        a.prices[outcome] = click.prompt(w["price_prompt"].format(outcome=outcome), default=float(price),
                                         value_proc=_number(lang, 0))
    share = template["commissioners"].get("kommune", d.kommune_share)
    a.kommune_share = click.prompt(w["kommune_share"], default=float(share), value_proc=_number(lang, 0, 1))
    a.replications = click.prompt(w["replications"], default=d.replications,
                                  value_proc=_number(lang, 1, whole=True))
    return a


@click.command()
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="The scenario file to write (default: <name>.toml in this folder).")
@click.option("--from-xlsx", "from_xlsx", type=click.Path(dir_okay=False, exists=True),
              help="Take the answers from a filled-in input sheet instead of asking.")
@click.option("--xlsx-template", "template", type=click.Path(dir_okay=False),
              help="Only write the blank input sheet (Excel) to this file, to fill in and pass to "
                   "--from-xlsx.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@lang_option("Language of the questions and messages (Norwegian bokmål or English).")
def init(out, from_xlsx, template, force, lang):
    """Write a scenario file from a few questions (pathway, target groups, cohort size, contract,
    prices, who pays, replications), or from an Excel input sheet. The file names the built-in
    pathway and contract as templates, marks every answer as an assumption, and is validated
    before the command ends."""
    from effekt.experiments.init_scenario import WORDS, answers_from_xlsx, scenario_toml, write_template
    from effekt.experiments.scenario import load_scenario
    from effekt.specfile import SpecError

    w = WORDS[lang]
    if template:
        if Path(template).exists() and not force:
            _fail(w["exists"].format(path=template), lang)
        try:
            click.echo(w["wrote"].format(path=write_template(template, lang)))
        except OSError as err:
            _fail(_unwritable(template, err, lang), lang)
        return
    if from_xlsx:
        try:
            answers = answers_from_xlsx(from_xlsx, lang)
        except SpecError as err:
            _fail(err, lang)
    else:
        answers = _ask(lang)
    path = Path(out or f"{answers.name}.toml")
    if path.exists() and not force:
        _fail(w["exists"].format(path=path) + w["or_out"], lang)
    try:
        origin = "effekt init" + (f" --from-xlsx {Path(from_xlsx).name}" if from_xlsx else "")
        text = scenario_toml(answers, origin)
    except SpecError as err:
        _fail(err, lang)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        _fail(_unwritable(path, err, lang), lang)
    click.echo(w["wrote"].format(path=path))
    try:
        sc = load_scenario(path)
    except SpecError as err:
        click.echo(w["invalid"].format(path=path), err=True)
        click.echo(str(err), err=True)
        sys.exit(2)
    click.echo(w["valid"].format(path=path, n=sc.world.size, pathway=answers.pathway,
                                 contract=answers.contract))
    click.echo(w["next"].format(path=path))

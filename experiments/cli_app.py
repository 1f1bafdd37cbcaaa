"""``effekt app [SCENARIO.toml]``: the interactive explorer in the browser (docs/app.md).

A local server (127.0.0.1 unless ``--host``) in front of the scenario files: the page's choices
become a scenario file run like ``effekt run``, into a results directory under ``--out``.
Needs the optional extra: ``pip install 'effekt[app]'``.
"""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from effekt.experiments.cli_lang import fail as _fail
from effekt.experiments.cli_lang import lang_option

INSTALL = "effekt app needs the optional extra: pip install 'effekt[app]' (it adds starlette and uvicorn)"

WORDS: dict[str, dict[str, str]] = {
    "nb": {"missing": "effekt app trenger tillegget: pip install 'effekt[app]' (det legger til "
                      "starlette og uvicorn)",
           "open": "effekt app kjører på {url} (stopp med Ctrl-C); kjøringene lagres i {out}/",
           "no_auth": "advarsel: --host {host} gjør siden synlig for andre maskiner, og den har ingen "
                      "innlogging: alle som når {host}:{port}, kan kjøre simuleringer og laste ned "
                      "resultatene",
           "bad_file": "finner ikke scenariofilen {path}"},
    "en": {"missing": INSTALL,
           "open": "effekt app is running at {url} (stop with Ctrl-C); the runs are stored in {out}/",
           "no_auth": "warning: --host {host} makes the page reachable from other machines, and it has "
                      "no authentication: anyone who reaches {host}:{port} can run simulations and "
                      "download the results",
           "bad_file": "no scenario file {path}"},
}
"""The command's messages in bokmål and English."""

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command("app")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback shows the page to other machines, "
                   "which has no authentication.")
@click.option("--no-browser", is_flag=True, help="Do not open the browser.")
@click.option("--out", type=click.Path(file_okay=False), default="results/app", show_default=True,
              help="Folder for the runs' results directories (one per run).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Local worker processes shared by the page's runs.")
@click.option("--dask", metavar="ADDRESS", help="Run on a Dask cluster (tcp://host:8786, or 'local'; "
              "pip install 'effekt[dask]') instead of local processes.")
@lang_option("Language of the page and these messages (Norwegian bokmål or English).")
def app_command(scenario, port, host, no_browser, out, workers, dask, lang):
    """Start the interactive explorer: a local web page on top of the scenario files (SCENARIO:
    the file it starts from; without it the built-in default)."""
    words = WORDS[lang]
    try:
        import uvicorn

        from effekt.experiments.app.server import create_app
    except ImportError:
        _fail(words['missing'], lang)
    if scenario is not None and not Path(scenario).is_file():
        _fail(words['bad_file'].format(path=scenario), lang)
    if host not in LOOPBACK:
        click.echo(words["no_auth"].format(host=host, port=port), err=True)
    try:
        application = create_app(out, scenario, lang=lang, workers=workers, dask=dask,
                                 hosts=() if host in LOOPBACK else (host,))
    except (RuntimeError, OSError, ImportError) as err:  # a Dask cluster not reached, --out not writable
        _fail(err, lang)
    config = uvicorn.Config(application, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    shown = "localhost" if host in LOOPBACK else host

    def announce() -> None:  # once the socket is bound (port 0 gets its number then)
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        url = f"http://{shown}:{bound}/?lang={lang}"
        click.echo(words["open"].format(url=url, out=out), err=True)
        if not no_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()

"""The app's web server: the static page and a small JSON API over :mod:`.form`, :mod:`.jobs` and
:mod:`.results` (Starlette, served by uvicorn; docs/app.md says why). Every handler answers bad
input with a message and a 4xx status, never with a crash; the scenario's base file is one of the
built-in scenarios, the file given on the command line or a file uploaded through the page, never a
path the browser names."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from effekt.experiments.app import form as forms
from effekt.experiments.app.guard import LocalOnly
from effekt.experiments.app.jobs import RunManager
from effekt.experiments.app.labels import LANGS, labels
from effekt.experiments.app.results import MAX_VARIANTS, compare
from effekt.experiments.messages import error_text
from effekt.specfile import SpecError, keyed, problem_text, said

STATIC = Path(__file__).resolve().parent / "static"  # resolved: the editable install links each file
log = logging.getLogger("effekt.app")


class App:
    """The server's state: the runs, the base files it may read, the page's default language."""

    def __init__(self, root: str | Path, scenario: str | Path | None = None, lang: str = "nb",
                 workers: int | None = 2, dask: str | None = None):
        self.manager = RunManager(root, workers, dask=dask)
        self.root = Path(root)
        self.lang = lang if lang in LANGS else "nb"
        self.files: dict[str, Path] = {}
        self.start = "default"
        if scenario is not None:
            self.files["file"] = Path(scenario).resolve()
            self.start = "file"

    def base(self, name: Any) -> Path:
        """The base scenario file a form names (``default``, a built-in, ``file``, ``upload:<id>``)."""
        name = str(name or self.start)
        if name in self.files:
            return self.files[name]
        if name in forms.builtin_scenarios():
            return forms.base_path(name)
        choices = ", ".join([*forms.builtin_scenarios(), *self.files])
        raise SpecError("base", [said(f"'{name}': no such scenario; choose from {choices}",
                                      f"'{name}': intet slikt scenario; velg blant {choices}")])

    def form(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise SpecError("form", [said("the form must be a JSON object",
                                          "skjemaet må være et JSON-objekt")])
        return {**data, "base": str(self.base(data.get("base")))}


def _lang(request: Request, app: App) -> str:
    lang = request.query_params.get("lang", app.lang)
    return lang if lang in LANGS else app.lang


def _asked(request: Request) -> str:
    """The language a request asks its errors in (``?lang=``, as the page sends it); English when it
    names none, as the API has always answered a client that does not say."""
    lang = request.query_params.get("lang")
    return lang if lang in LANGS else "en"


def _not_found(what: str, lang: str) -> JSONResponse:
    """404 with its reason in ``lang``: ``run`` (no such run) or a download's name."""
    if what == "run":
        text = "fant ingen slik kjøring" if lang == "nb" else "no such run"
    else:
        text = f"ingen nedlasting '{what}'" if lang == "nb" else f"no download '{what}'"
    return JSONResponse({"errors": {forms.GENERAL: [text]}}, status_code=404)


def _bad(err: Exception, status: int = 400, lang: str = "en") -> JSONResponse:
    """The error as the page shows it, in ``lang`` (a rule's own bokmål wording in nb)."""
    if isinstance(err, SpecError):
        return JSONResponse({"errors": {forms.GENERAL: [problem_text(keyed(err.source, p), lang)
                                                        for p in err.problems]}}, status_code=status)
    return JSONResponse({"errors": {forms.GENERAL: [f"{type(err).__name__}: {error_text(err, lang)}"]}},
                        status_code=status)


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as err:
        raise SpecError("request", [said(f"not JSON: {err}", f"ikke JSON: {err}")]) from None


def create_app(root: str | Path, scenario: str | Path | None = None, lang: str = "nb",
               workers: int | None = 2, warm: bool = True, dask: str | None = None,
               hosts: tuple[str, ...] = ()) -> Starlette:
    """The Starlette application; ``root`` holds each run's folder (scenario.toml and results/);
    ``dask``: run on a Dask cluster (an address or ``local``) instead of local processes;
    ``hosts``: the names it answers to besides loopback (``--host``). Requests for another host
    name, and POSTs not sent by its own page, are refused (:mod:`effekt.experiments.app.guard`)."""
    state = App(root, scenario, lang, workers, dask)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def get_labels(request: Request) -> Response:
        return JSONResponse(labels(_lang(request, state)))

    async def get_defaults(request: Request) -> Response:
        q = request.query_params
        name = q.get("base") or state.start
        try:
            path = state.base(name)
            d = await asyncio.to_thread(forms.defaults, path, q.get("pathway") or None,
                                        q.get("contract") or None)
        except (SpecError, OSError, ValueError, TypeError, KeyError, IndexError) as err:
            return _bad(err, lang=_asked(request))
        d["base"] = name
        d["choices"]["scenarios"] = [*forms.builtin_scenarios(), *state.files]
        d["lang"] = state.lang
        return JSONResponse(d)

    async def post_check(request: Request) -> Response:
        try:
            f = state.form(await _json(request))
        except SpecError as err:
            return _bad(err, lang=_asked(request))
        checked = await asyncio.to_thread(forms.check, f, None, _lang(request, state))
        return JSONResponse({"ok": checked.ok, "errors": checked.errors, "toml": checked.toml,
                             "titles": checked.titles})

    async def post_run(request: Request) -> Response:
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                raise SpecError("request", [said("expected {form, lang}", "ventet {form, lang}")])
            f = state.form(body.get("form"))
        except SpecError as err:
            return _bad(err, lang=_asked(request))
        lang = body.get("lang") if body.get("lang") in LANGS else state.lang
        run, checked = await asyncio.to_thread(state.manager.start, f, lang, body.get("force") is True)
        if run is None:
            # 200: bad input is an answer to show beside the fields, not a failed request
            return JSONResponse({"ok": False, "errors": checked.errors, "toml": checked.toml,
                                 "confirm": checked.confirm})
        return JSONResponse({"ok": True, "id": run.id, "total": run.total})

    def _run(request: Request):
        return state.manager.get(request.path_params["rid"])

    async def get_run(request: Request) -> Response:
        run = _run(request)
        if run is None:
            return _not_found("run", _asked(request))
        if run.status == "running":  # the numbers so far, provisional
            await asyncio.to_thread(state.manager.provisional, run)
        return JSONResponse(run.state())

    async def get_runs(request: Request) -> Response:
        rows = await asyncio.to_thread(state.manager.history, _lang(request, state))
        return JSONResponse({"runs": rows, "root": str(state.root)})

    async def post_delete(request: Request) -> Response:
        # the page asked the user first and says so with confirm: true; nothing is deleted unasked
        try:
            body = await _json(request)
        except SpecError as err:
            return _bad(err, lang=_asked(request))
        if not isinstance(body, dict) or body.get("confirm") is not True:
            return _bad(SpecError("delete", [said("send {\"confirm\": true} once the user has agreed",
                                                  "send {\"confirm\": true} når brukeren har sagt ja")]),
                        lang=_asked(request))
        try:
            folder = await asyncio.to_thread(state.manager.delete, request.path_params["rid"])
        except ValueError as err:
            message = err.args[0] if err.args else str(err)  # a Said keeps its bokmål
            return _bad(SpecError("delete", [message]), 409 if "still running" in str(err) else 404,
                        lang=_asked(request))
        return JSONResponse({"ok": True, "deleted": str(folder)})

    async def post_cancel(request: Request) -> Response:
        run = _run(request)
        if run is None:
            return _not_found("run", _asked(request))
        run.cancel.set()
        return JSONResponse({"ok": True})

    async def download(request: Request) -> Response:
        run = _run(request)
        what = request.path_params["what"]
        if run is None:
            return _not_found("run", _asked(request))
        name = run.experiment.base.info.name
        if what == "scenario.toml":
            return FileResponse(run.scenario_file, media_type="application/toml",
                                filename=f"{name}.toml")
        if run.status != "done":
            return JSONResponse({"errors": {forms.GENERAL: ["the run has not finished"]}}, status_code=409)
        lang = _lang(request, state)
        try:
            if what == "report.html":
                from effekt.experiments.report import write_report

                target = run.folder / f"report_{lang}.html"
                path = await asyncio.to_thread(write_report, run.out, target, lang)
                return FileResponse(path, media_type="text/html; charset=utf-8",
                                    filename=f"{name}_{lang}.html")
            if what == "results.xlsx":
                from effekt.experiments.export_xlsx import write_workbook

                target = run.folder / f"{name}_{lang}.xlsx"
                path = await asyncio.to_thread(write_workbook, run.out, target, lang)
                return FileResponse(path, filename=f"{name}_{lang}.xlsx", media_type=(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        except (SpecError, OSError, ValueError) as err:
            return _bad(err, 500, lang=_asked(request))
        return _not_found(what, _asked(request))

    async def post_compare(request: Request) -> Response:
        try:
            body = await _json(request)
            ids = body.get("ids") if isinstance(body, dict) else None
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_VARIANTS:
                raise SpecError("compare", [said(f"ids: a list of 1 to {MAX_VARIANTS} run ids",
                                                 f"ids: en liste med 1 til {MAX_VARIANTS} kjørings-id-er")])
            runs = [state.manager.get(str(i)) for i in ids]
            if any(r is None or r.status != "done" for r in runs):
                raise SpecError("compare", [said("every variant must be a finished run of this server",
                                                 "hver variant må være en ferdig kjøring på denne serveren")])
        except SpecError as err:
            return _bad(err, lang=_asked(request))
        lang = body.get("lang") if body.get("lang") in LANGS else state.lang
        names = body.get("names") if isinstance(body.get("names"), list) else [r.id for r in runs]
        try:
            pairs = [(str(n), r.out) for n, r in zip(names, runs, strict=False)]
            table = await asyncio.to_thread(compare, pairs, lang)
        except (OSError, ValueError, KeyError) as err:
            return _bad(err, 500, lang=_asked(request))
        return JSONResponse(table)

    async def post_upload(request: Request) -> Response:
        body = await request.body()
        if len(body) > 1_000_000:
            too_big = said("a scenario file of at most 1 MB", "en scenariofil på høyst 1 MB")
            return _bad(SpecError("upload", [too_big]), lang=_asked(request))
        key = f"upload:{uuid.uuid4().hex[:8]}"
        folder = state.root / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key.split(':')[1]}.toml"
        path.write_bytes(body)
        try:
            await asyncio.to_thread(forms.defaults, path)
        except (SpecError, OSError, ValueError, TypeError, KeyError, IndexError) as err:
            path.unlink(missing_ok=True)
            return _bad(err, lang=_asked(request))
        state.files[key] = path
        return JSONResponse({"ok": True, "base": key})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if warm:
            await asyncio.to_thread(state.manager.warm)
        try:
            yield
        finally:
            await asyncio.to_thread(state.manager.close)

    routes = [
        Route("/", page),
        Route("/api/labels", get_labels),
        Route("/api/defaults", get_defaults),
        Route("/api/check", post_check, methods=["POST"]),
        Route("/api/run", post_run, methods=["POST"]),
        Route("/api/run/{rid}", get_run),
        Route("/api/run/{rid}/cancel", post_cancel, methods=["POST"]),
        Route("/api/run/{rid}/{what}", download),
        Route("/api/runs", get_runs),
        Route("/api/runs/{rid}/delete", post_delete, methods=["POST"]),
        Route("/api/compare", post_compare, methods=["POST"]),
        Route("/api/upload", post_upload, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(LocalOnly, hosts=hosts)])
    app.state.effekt = state
    return app


@contextlib.contextmanager
def serving(root: str | Path, scenario: str | Path | None = None, lang: str = "nb", workers: int | None = 2,
            warm: bool = True, port: int = 0) -> Iterator[tuple[str, Starlette]]:
    """The app on loopback (``port`` 0: a free one) in a thread of this process, for tests and
    benchmarks: yields its base URL and the application; stopped (its runs cancelled) at the end."""
    import socket
    import threading
    import time

    import uvicorn

    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    app = create_app(root, scenario, lang, workers, warm)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="effekt-app-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("effekt app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=120)


__all__ = ["App", "create_app", "serving"]

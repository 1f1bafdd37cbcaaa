"""What keeps other web pages out of `effekt app`: the Host header and a header of our own.

Listening on loopback keeps other machines out, not other web pages: any page the user has open
can send a POST to ``http://127.0.0.1:8765/api/run`` (a "simple" cross-site request needs no
permission), and a page whose own name is made to point at 127.0.0.1 (DNS rebinding) can read the
answers too. Two checks close both, as the OWASP cheat sheets on CSRF and DNS rebinding advise:

* **Host**: a request whose ``Host`` header is not one of the server's own names (127.0.0.1,
  localhost, ::1, and the host given with ``--host``) is refused with 421. A rebinding page's
  requests carry its own name.
* **A custom header on every POST** (``X-Effekt-App: 1``): a browser sends a header of a page's
  own choosing to another origin only after asking it (a CORS preflight), and this server never
  says yes, so a POST from another page never arrives with it; the page's own script adds it to
  each request. A POST without it is refused with 403. If an ``Origin`` header is sent, it must be
  this server's own.

Everything else (the page, its script, GET requests of results) passes through unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

HEADER = "x-effekt-app"
"""The header the page's script sends with every POST (lower case, as ASGI gives headers)."""

LOOPBACK = ("127.0.0.1", "localhost", "::1")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _host_name(value: str) -> str:
    """The name in a ``Host`` header without its port (``[::1]:8765`` -> ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LocalOnly:
    """ASGI middleware: refuse requests for another host name and POSTs without our header.

    ``hosts``: the names this server answers to besides loopback (the ``--host`` given)."""

    def __init__(self, app: App, hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = {h.lower() for h in (*LOOPBACK, *hosts) if h and h not in ("0.0.0.0", "::")}
        self.any_host = any(h in ("0.0.0.0", "::") for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.any_host and _host_name(host) not in self.allowed:
            await _refuse(send, 421, f"effekt app answers only to {', '.join(sorted(self.allowed))}, "
                                     f"not to the host '{host}'")
            return
        if scope.get("method", "GET").upper() not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if headers.get(HEADER) != "1":
                await _refuse(send, 403, "a request from outside effekt app's own page is refused")
                return
            if origin is not None and origin.lower() not in (f"http://{host.lower()}", f"https://{host.lower()}"):
                await _refuse(send, 403, f"a request from the page '{origin}' is refused")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

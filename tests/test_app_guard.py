"""effekt app's guard against other web pages (experiments/app/guard.py), as plain ASGI calls."""

from __future__ import annotations

import asyncio
import json

import pytest

from effekt.experiments.app.guard import HEADER, LocalOnly


async def _ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def call(method: str, headers: dict[str, str], hosts=()) -> tuple[int, bytes]:
    """Send one request through the guard; (status, body)."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/api/run",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(LocalOnly(_ok, hosts)(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


OWN = {"host": "127.0.0.1:8765", HEADER: "1", "origin": "http://127.0.0.1:8765"}


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST"])
def test_the_page_itself_gets_through(host):
    assert call("GET", {"host": host}) == (200, b"ok")
    assert call("POST", {"host": host, HEADER: "1"})[0] == 200


def test_another_host_name_is_refused_even_when_it_points_here():
    # DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1 sends its own Host
    status, body = call("POST", {**OWN, "host": "evil.example:8765", "origin": "http://evil.example:8765"})
    assert status == 421 and "evil.example" in json.loads(body)["error"]
    assert call("GET", {"host": "evil.example:8765"})[0] == 421  # and cannot read results either


def test_a_post_without_the_page_header_is_refused():
    # a form or a simple fetch from another page: no custom header (it would need a preflight)
    status, body = call("POST", {"host": "127.0.0.1:8765", "origin": "http://evil.example",
                                 "content-type": "text/plain"})
    assert status == 403 and "refused" in json.loads(body)["error"]
    assert call("POST", {"host": "127.0.0.1:8765"})[0] == 403


def test_a_post_from_another_origin_is_refused_even_with_the_header():
    assert call("POST", {**OWN, "origin": "http://evil.example"})[0] == 403
    assert call("POST", OWN)[0] == 200


def test_the_host_given_with_host_is_allowed_and_any_host_when_listening_everywhere():
    assert call("POST", {**OWN, "host": "laptop.local:8765", "origin": "http://laptop.local:8765"},
                hosts=["laptop.local"])[0] == 200
    assert call("GET", {"host": "10.0.0.5:8765"}, hosts=["0.0.0.0"])[0] == 200
    assert call("POST", {"host": "10.0.0.5:8765"}, hosts=["0.0.0.0"])[0] == 403  # still needs the header

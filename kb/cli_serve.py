"""``kb serve``: keep the knowledge base loaded, so repeated ``kb search``/``kb ask`` take milliseconds.

Every ``kb search`` or ``kb ask`` on its own loads the embedding model first (16–20 s on a 2-core machine).
``kb serve`` loads it once and answers on a local port (127.0.0.1 only by default); ``kb search --server URL``
and ``kb ask --server URL`` (or ``KB_SERVE_URL=URL`` in the environment) send the question there and print
the same output, without importing the model at all. ``kb chat`` and ``--batch FILE`` are the other ways to
ask many questions with one model load.

Endpoints (JSON over HTTP): ``GET /health`` → ``{"ok": true, "documents": n}``;
``POST /search`` ``{"question", "k", "topic", "partner"}`` → ``{"hits": [...]}`` (as ``kb search --json``);
``POST /ask`` ``{"question", "topic", "partner"}`` → the answer as ``kb ask --json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kb.errors import KbError

SERVE_URL_ENV = "KB_SERVE_URL"
DEFAULT_PORT = 8765
MAX_BODY = 64 * 1024


class ServeError(KbError):
    """The local server could not be reached or refused the request (Dutch message)."""


def add_serve_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="de kennisbank geladen houden voor snelle kb search/ask")
    p.add_argument("--host", default="127.0.0.1", help="adres (standaard alleen deze computer: 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"poort (standaard {DEFAULT_PORT})")
    p.set_defaults(func=cmd_serve)


def add_server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=_configured_url(),
        help=f"adres van een draaiende 'kb serve' (of {SERVE_URL_ENV}); dan is het model al geladen",
    )


def _configured_url() -> str | None:
    """``KB_SERVE_URL`` (environment or ``.env``, see :class:`kb.config.Settings`)."""
    if os.environ.get(SERVE_URL_ENV):
        return os.environ[SERVE_URL_ENV]
    try:
        from kb.config import Settings

        return Settings().serve_url
    except Exception:  # an invalid setting elsewhere is reported by the command itself
        return None


# ------------------------------------------------------------------------------------ server
def make_server(kb: Any, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """An HTTP server answering with ``kb`` (a :class:`kb.service.KnowledgeBase`); ``serve_forever`` it."""
    from kb.retrieval import SearchFilters

    class Handler(BaseHTTPRequestHandler):
        server_version = "SamenWeten"

        def log_message(self, format: str, *args: Any) -> None:
            print(f"kb serve: {self.address_string()} {format % args}", file=sys.stderr)

        def _send(self, status: int, data: Any) -> None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"ok": True, "documents": len(kb.store.list_documents())})
            else:
                self._send(404, {"error": "onbekend adres: gebruik /health, /search of /ask"})

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ValueError("het verzoek is te groot")
                request = json.loads(self.rfile.read(length) or b"{}")
                question = str(request.get("question") or "").strip()
                if not question:
                    raise ValueError("geef een vraag ('question')")
                filters = SearchFilters(topic=request.get("topic"), partner=request.get("partner"))
            except (ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            try:
                if self.path == "/search":
                    k = max(1, int(request["k"])) if request.get("k") else None  # None: the configured default
                    hits = kb.retriever.search(question, k, filters)
                    self._send(200, {"hits": [h.to_dict() for h in hits]})
                elif self.path == "/ask":
                    self._send(200, kb.assistant.ask(question, [], filters).complete().to_dict())
                else:
                    self._send(404, {"error": "onbekend adres: gebruik /search of /ask"})
            except Exception as exc:  # reported to the client, the server keeps running
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    return ThreadingHTTPServer((host, port), Handler)


def cmd_serve(args: argparse.Namespace) -> int:
    from kb.cli import _kb

    kb = _kb(args)
    print("kb serve: model en kennisbank laden…", file=sys.stderr)
    kb.embedder().encode_queries(["opstarten"])
    kb.retriever.lexical.get()
    kb.retriever.hubness()  # the example-question pool, so the first question does not wait for it
    try:
        server = make_server(kb, args.host, args.port)
    except OSError as exc:
        print(
            f"kb serve: poort {args.port} is niet beschikbaar ({exc.strerror}); kies een andere met --port.",
            file=sys.stderr,
        )
        return 1
    url = f"http://{args.host}:{server.server_address[1]}"
    print(
        f'kb serve: klaar op {url}. Gebruik: kb ask --server {url} "vraag" (of {SERVE_URL_ENV}={url}). '
        "Stoppen met Ctrl-C.",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def serve_in_thread(kb: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a background thread (tests); returns it and its URL. It polls for ``shutdown()``
    every 50 ms (the default half second made every stop wait that long)."""
    server = make_server(kb, host, port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


# ------------------------------------------------------------------------------------ client
def remote(url: str, endpoint: str, payload: dict[str, Any], timeout: float = 120.0) -> Any:
    """POST ``payload`` to ``url/endpoint``; the JSON reply, or :class:`ServeError` in Dutch."""
    request = urllib.request.Request(
        url.rstrip("/") + endpoint,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read().decode("utf-8")).get("error")
        except Exception:
            reason = exc.reason
        raise ServeError(f"de server op {url} weigerde het verzoek: {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServeError(
            f"geen 'kb serve' bereikbaar op {url} ({reason}). Start hem met 'kb serve', of laat --server weg."
        ) from None


def print_remote_hits(hits: list[dict[str, Any]]) -> None:
    if not hits:
        print("Niets gevonden.")
    for h in hits:
        where = " > ".join(h.get("section") or []) or "(begin)"
        page = f", p. {h['page']}" if h.get("page") else ""
        text = (h.get("text") or "")[:200].replace("\n", " ")
        print(f"[{h.get('rank')}] {float(h.get('score') or 0):.3f}  {h.get('title')} — {where}{page}\n     {text}")


def print_remote_answer(answer: dict[str, Any]) -> None:
    print(answer.get("answer", ""))
    citations = answer.get("citations") or []
    if citations:
        print("\nBronnen:")
        for c in citations:
            section = c.get("section") or []
            page = f", p. {c['page']}" if c.get("page") else ""
            print(
                f"  [{c.get('n')}] {c.get('title')} — {' > '.join(section[-1:]) or '(begin)'}{page} ({c.get('source')})"
            )
    for w in answer.get("warnings") or []:
        print(f"let op: {w}", file=sys.stderr)

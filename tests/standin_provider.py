"""A stand-in model provider: a small OpenAI-compatible HTTP server for tests.

``GET /v1/models`` lists one model; ``POST /v1/chat/completions`` answers every request with a
fixed ``marker`` text, as one JSON completion or, with ``"stream": true``, as server-sent events
(what OpenClaw's ``openai-completions`` provider asks for). Each request's ``Authorization``
header is recorded, so a test can tell which key reached which provider.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "standin-model"


@dataclass
class StandinProvider:
    marker: str
    host: str
    port: int = 0
    authorizations: list[str | None] = field(default_factory=list)
    """The Authorization header of every request, in order (None when absent)."""
    chats: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def provider_config(self, api_key: str) -> dict[str, Any]:
        """``models.providers.<id>`` of an OpenClaw config that uses this stand-in."""
        return {
            "baseUrl": self.base_url,
            "apiKey": api_key,
            "api": "openai-completions",
            "models": [
                {
                    "id": MODEL,
                    "name": "Stand-in",
                    "reasoning": False,
                    "input": ["text"],
                    "contextWindow": 32000,
                    "maxTokens": 1024,
                }
            ],
        }


def _handler(provider: StandinProvider) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read what they need from the provider's records."""

        def _record(self) -> None:
            with lock:
                provider.authorizations.append(self.headers.get("Authorization"))

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._record()
            if self.path.rstrip("/") != "/v1/models":
                self._send(404, b"{}", "application/json")
                return
            data = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
            self._send(200, json.dumps(data).encode(), "application/json")

        def do_POST(self) -> None:
            self._record()
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, b"{}", "application/json")
                return
            with lock:
                provider.chats += 1
            created = int(time.time())
            base = {"id": "chatcmpl-standin", "created": created, "model": MODEL}
            if not request.get("stream"):
                message = {"role": "assistant", "content": provider.marker}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
                data = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
                self._send(200, json.dumps(data).encode(), "application/json")
                return
            chunks = [
                {"index": 0, "delta": {"role": "assistant", "content": provider.marker}},
                {"index": 0, "delta": {}, "finish_reason": "stop"},
            ]
            events = [
                {**base, "object": "chat.completion.chunk", "choices": [choice]}
                for choice in chunks
            ]
            body = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
            self._send(200, (body + "data: [DONE]\n\n").encode(), "text/event-stream")

    return Handler


@contextmanager
def standin_provider(marker: str, host: str = "127.0.0.1") -> Iterator[StandinProvider]:
    """A running stand-in on a free port of ``host`` (the OS picks it), stopped afterwards."""
    provider = StandinProvider(marker, host)
    server = ThreadingHTTPServer((host, 0), _handler(provider))
    server.daemon_threads = True
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

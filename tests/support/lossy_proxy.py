"""An HTTP proxy in front of a real server that can lose answers: the request reaches the server and
is carried out, then the connection is closed before the answer comes back (what a client sees when
a network drops at the wrong moment). It can also play a server out of reach, and it records every
request, so a test can tell which calls a client made."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length", "proxy-connection"}


@dataclass
class LossRule:
    method: str
    path: re.Pattern[str]
    remaining: int = 1  # how many matching answers to lose


@dataclass
class LossyProxy:
    upstream: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    lost: list[tuple[str, str]] = field(default_factory=list)
    unreachable: bool = False  # when set, every connection is dropped before anything is forwarded
    _rules: list[LossRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.upstream, timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return

            def _forward(self) -> None:
                if proxy.unreachable:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = proxy._http.request(self.command, self.path, headers=headers, content=body)
                if proxy._should_lose(self.command, self.path):
                    # Carried out upstream; the client never hears back.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def lose_answer(self, method: str, path_pattern: str, times: int = 1) -> None:
        with self._lock:
            self._rules.append(LossRule(method, re.compile(path_pattern), times))

    def _should_lose(self, method: str, path: str) -> bool:
        with self._lock:
            self.requests.append((method, path))
            for rule in self._rules:
                if rule.remaining and rule.method == method and rule.path.fullmatch(path.split("?", 1)[0]):
                    rule.remaining -= 1
                    self.lost.append((method, path))
                    return True
        return False

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [path.split("?", 1)[0] for m, path in self.requests if method is None or m == method]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

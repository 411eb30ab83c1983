"""The emulator's HTTP server on loopback: `Emulator`, its sockets, how faults look on the wire."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import struct
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from types import TracebackType
from typing import Any

from desktop_app.clock import Clock, SystemClock
from desktop_app.emulator.admin import EmulatorAdmin
from desktop_app.emulator.erasure import PurgeSchedule
from desktop_app.emulator.faults import FaultKind, FaultPlan, Tamper
from desktop_app.emulator.oauth import (
    DEFAULT_ACCOUNT_TOKEN,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    TokenIssuer,
)
from desktop_app.emulator.response_samples import PER_USER, load_sample_history
from desktop_app.emulator.responses import SurveyRoutes
from desktop_app.emulator.sample_data import FIRST_ID, iter_records
from desktop_app.emulator.service import ApiRequest, ApiResponse, WootricService, json_response
from desktop_app.emulator.store import EmulatorStore
from desktop_app.emulator.wire import error_list
from desktop_app.timestamps import PACIFIC

log = logging.getLogger(__name__)
_TOKEN_IN_QUERY = re.compile(r"((?:access|refresh)_token=|client_secret=|password=)[^&\s\"]*")

MAX_BODY = 16 * 1024 * 1024
IDLE_CONNECTION_SECONDS = 60  # a keep-alive connection nobody uses is closed after this
_MALFORMED_BODY = b'[{"id":1,"email":"broken@example.com","properties":{"plan":"Pro"'
_UNAVAILABLE_PAGE = (
    b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n"
)


def _internal_error() -> ApiResponse:
    return json_response(500, error_list("internal_server_error", "Internal Server Error"))


def _tampered(response: ApiResponse, tamper: Tamper) -> ApiResponse:
    """The answer with one field of its first end user replaced (the `tamper_next` fault)."""
    document = json.loads(response.body)
    target = document[0] if isinstance(document, list) and document else document
    if isinstance(target, dict):
        target[tamper.field] = tamper.value
    return replace(response, body=json.dumps(document, separators=(",", ":")).encode("utf-8"))


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections (to drop them when offline)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open connection, as a network outage would."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """One connection: keep-alive HTTP/1.1, every answer with a Content-Length."""

    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body leave in one write at flush
    timeout = IDLE_CONNECTION_SECONDS
    server_version = "WootricEmulator/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header by the emulator clock, so scaled time agrees everywhere."""
        now = self.server.emulator.clock.now() if timestamp is None else timestamp
        return email.utils.formatdate(now, usegmt=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the path only: query strings may carry access tokens
        log.debug("%s %s -> %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        # request lines may hold `access_token=...`: never let a token reach the log
        log.debug("emulator: %s", _TOKEN_IN_QUERY.sub(r"\1[redacted]", format % args))

    # -- the request ---------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        emulator = self.server.emulator
        try:
            body = self._read_body()
        except ValueError:
            self._send(json_response(400, error_list("bad_request", "unreadable body")))
            self.close_connection = True
            return
        if body is None:
            self._send(json_response(413, error_list("payload_too_large", "body too large")))
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        if path.startswith("/_emulator/") or path == "/_emulator":
            if not ip_address(self.client_address[0]).is_loopback:
                self._send(json_response(403, error_list("forbidden", "loopback only")))
                return
            try:
                response, then = emulator.admin.handle(self.command, path, body)
            except Exception:  # a bug in the admin surface still answers, as a server would
                log.exception("emulator admin failed on %s %s", self.command, path)
                response, then = _internal_error(), None
            if then is not None:
                self.close_connection = True
            self._send(response)
            if then is not None:
                self.wfile.flush()  # answer first: `then` may take this very connection down
                then()
            return
        faults = emulator.faults
        delay = faults.current_latency()
        if delay:
            faults.hold_for(delay)
        fault = faults.pick(self.command, path)
        if fault is not None and not fault.after_write:
            self._inject(fault)
            return
        request = ApiRequest(
            method=self.command,
            path=path,
            query=query,
            body=body,
            content_type=self.headers.get("Content-Type"),
            authorization=self.headers.get("Authorization"),
        )
        try:
            response = emulator.service.handle(request)
        except Exception:  # a bug in the emulator must still answer like a server would
            log.exception("emulator failed on %s %s", self.command, path)
            response = _internal_error()
        if 200 <= response.status < 300 and response.body:
            tamper = faults.take_tamper(path)
            if tamper is not None:
                response = _tampered(response, tamper)
        if fault is FaultKind.RESET_AFTER_WRITE:
            self._reset()
        elif fault is FaultKind.TRUNCATED_AFTER_WRITE:
            self._send(response, truncate=True)
        else:
            self._send(response)

    # -- writing -------------------------------------------------------------------------

    def _send(self, response: ApiResponse, *, truncate: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            # promise the whole body, send part of it, hang up
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), no answer at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # the buffered files hold references to the socket: close them so the close is real
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
        except OSError:
            pass

    def _inject(self, fault: FaultKind) -> None:
        service = self.server.emulator.service
        if fault is FaultKind.SERVER_ERROR:
            self._send(_internal_error())
        elif fault is FaultKind.UNAVAILABLE:
            self._send(ApiResponse(503, _UNAVAILABLE_PAGE, (), "text/html"))
        elif fault is FaultKind.RATE_LIMITED:
            refused = service.rate_limited()
            retry_after = self.server.emulator.faults.retry_after
            if retry_after is not None:
                refused = replace(refused, headers=(*refused.headers, ("Retry-After", retry_after)))
            self._send(refused)
        elif fault is FaultKind.MALFORMED:
            self._send(ApiResponse(200, _MALFORMED_BODY))
        elif fault is FaultKind.TRUNCATED:
            body = json_response(200, [{"id": 1, "email": "cut@example.com"}] * 20).body
            self._send(ApiResponse(200, body), truncate=True)
        elif fault is FaultKind.TIMEOUT:
            self.server.emulator.faults.hold()
            self.close_connection = True  # then hang up without a word
        else:
            self._reset()


class Emulator:
    """A Wootric API emulator serving on loopback (see `desktop_app.emulator`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        rate_limit: int | None = None,
        users: int = 0,
        seed: int = 0,
        end_users: Iterable[Mapping[str, Any]] | None = None,
        *,
        profile: str = "account",
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        account_token: str = DEFAULT_ACCOUNT_TOKEN,
        zone: tzinfo = PACIFIC,
        responses_per_user: float = PER_USER,
        purge_delay: float | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.clock: Clock = clock or SystemClock()
        self.store = EmulatorStore(self.clock)
        self.faults = FaultPlan(seed)
        self.tokens = TokenIssuer(
            self.clock, client_id, client_secret, username, password, account_token
        )
        # when an API DELETE's mark becomes a purge (None: the next 07:00 UTC; see erasure.py)
        self.purges = PurgeSchedule(self.clock, purge_delay)
        self.service = WootricService(
            self.store, self.tokens, self.clock, zone, rate_limit, seed, self.purges
        )
        self.service.repeated_rows = self.faults.repeated_rows
        self.service.survey_routes = SurveyRoutes(self.store, zone, self.clock)
        self.admin = EmulatorAdmin(self.store, self.faults, self.tokens, self.purges)
        if end_users is not None:
            self.store.load(end_users)
        if users:
            first_id = max(self.store.max_id() + 1, FIRST_ID)
            self.store.load_samples(
                iter_records(users, seed, profile, int(self.clock.now()), first_id)
            )
        # the starting end users' responses and declines (response_samples.py)
        load_sample_history(self.store.responses, seed, int(self.clock.now()), responses_per_user)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._stopped = False
        self._switch_lock = threading.Lock()
        self.faults.attach(self._go_offline, self._go_online)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Emulator:
        """Listen and serve on a daemon thread; returns self."""
        with self._switch_lock:
            self._stopped = False
            if self._server is None:
                self._listen(self._requested_port if self._port is None else self._port)
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and let held requests go."""
        self.faults.release()
        with self._switch_lock:
            self._stopped = True
            self._close_listener()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def expire_tokens(self) -> None:
        """Expire every access token now (refresh tokens keep working)."""
        self.tokens.expire_all()

    # -- sockets -------------------------------------------------------------------------

    def _listen(self, port: int) -> None:
        server = _Server((self.host, port), self)
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            # the poll interval bounds how long stop() and offline() wait for the loop
            target=server.serve_forever, kwargs={"poll_interval": 0.02},
            name=f"wootric-emulator-{self._port}", daemon=True,
        )
        self._thread.start()

    def _close_listener(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()  # the listening socket is really closed: connections are refused
        server.drop_connections()
        if thread is not None:
            thread.join(timeout=5)

    def _go_offline(self) -> None:
        with self._switch_lock:
            self._close_listener()

    def _go_online(self) -> None:
        with self._switch_lock:
            if self._server is None and self._port is not None and not self._stopped:
                self._listen(self._port)  # the same port: clients keep their base URL

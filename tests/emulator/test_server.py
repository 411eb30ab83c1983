"""The HTTP layer itself: keep-alive, chunked bodies, concurrency, start/stop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import httpx

from desktop_app.emulator import Emulator


def _read_response(stream: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length, read off a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(4096)
        assert chunk, "connection closed before the headers"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    pairs = (line.decode().split(":", 1) for line in lines)
    headers = {name.strip().lower(): value.strip() for name, value in pairs}
    while len(body) < int(headers["content-length"]):
        chunk = stream.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return status, headers, body


def test_keep_alive_serves_many_requests_on_one_connection(
    emulator: Emulator, token_for: Callable[[Emulator], str],
) -> None:
    token = token_for(emulator)
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as stream:
        for _ in range(3):
            stream.sendall(
                f"GET /v1/end_users?per_page=2 HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode()
            )
            status, headers, body = _read_response(stream)
            assert status == b"HTTP/1.1 200 OK"
            assert headers.get("connection", "keep-alive").lower() != "close"
            assert body.startswith(b"[{")


def test_chunked_request_bodies_are_read(
    emulator: Emulator, api_client: Callable[..., httpx.Client],
) -> None:
    http = api_client(emulator)
    end_user_id = min(emulator.store.all_ids())

    def pieces() -> object:
        yield b"properties[plan]=Chunked"
        yield b"&external_id=ch-1"

    reply = http.put(f"/v1/end_users/{end_user_id}", content=pieces(),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["properties"] == {"plan": "Chunked"}
    assert reply.json()["external_id"] == "ch-1"


def test_parallel_clients_create_without_losing_or_doubling(
    make_emulator: Callable[..., Emulator], api_client: Callable[..., httpx.Client],
) -> None:
    emu = make_emulator(users=0)
    clients = [api_client(emu) for _ in range(6)]
    failures: list[str] = []

    def create(n: int, http: httpx.Client) -> None:
        for k in range(15):
            reply = http.post("/v1/end_users", data={"email": f"c{n}-{k}@parallel.example"})
            if reply.status_code != 201:
                failures.append(reply.text)

    threads = [threading.Thread(target=create, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures and emu.store.count() == 90
    assert len({row["email"] for row in emu.store.seed_dicts()}) == 90


def test_stop_refuses_and_start_again_serves_the_same_data(
    make_emulator: Callable[..., Emulator], raw_client: Callable[..., httpx.Client],
) -> None:
    emu = make_emulator(users=5, seed=4)
    port = emu.port
    emu.stop()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            refused = False
    except ConnectionRefusedError:
        refused = True
    assert refused
    emu.start()
    assert emu.port == port
    assert raw_client(emu).get("/_emulator/health").json()["end_users"] == 5


def test_context_manager_starts_and_stops() -> None:
    with Emulator(users=3) as emu:
        port = emu.port
        assert httpx.get(f"{emu.base_url}/_emulator/health", timeout=5).status_code == 200
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            still_open = True
    except ConnectionRefusedError:
        still_open = False
    assert not still_open

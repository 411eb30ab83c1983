"""`python -m desktop_app.emulator`: run the Wootric API emulator until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from desktop_app.arguments import ArgumentParser, refuse_broken_text, whole_number
from desktop_app.clock import Clock, ScaledClock, SystemClock
from desktop_app.emulator.oauth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from desktop_app.emulator.response_samples import MAX_PER_USER, PER_USER
from desktop_app.emulator.sample_data import Profile
from desktop_app.emulator.server import Emulator


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m desktop_app.emulator",
        description="A local emulator of the Wootric REST API (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=whole_number(0, 65535), default=0, help="0 picks a free port")
    parser.add_argument("--users", type=whole_number(0, 10_000_000), default=0, help="generate this many end users")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=[p.value for p in Profile], default="account")
    parser.add_argument("--data", type=Path, help="JSON Lines of end users in the seed's schema")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
    parser.add_argument("--clock-speed", type=float, default=None,
                        help="run the emulator clock this many times faster than real time")
    parser.add_argument("--purge-delay", type=whole_number(0, 10 * 365 * 86_400), default=None,
                        metavar="SECONDS",
                        help="purge an end user this long after an API DELETE marked it "
                             "(default: the next 07:00 UTC, as the service does)")
    parser.add_argument("--responses-per-user", type=_share_per_user, default=PER_USER, metavar="N",
                        help="sample survey responses per starting end user, on average "
                             f"(0 to {MAX_PER_USER:g}; default {PER_USER:g}; 0: none, nor declines)")
    return parser


def _share_per_user(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= MAX_PER_USER:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and {MAX_PER_USER:g}")
    return value


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    refuse_broken_text(parser, args)
    return args


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    clock: Clock = SystemClock() if args.clock_speed is None else ScaledClock(args.clock_speed)
    try:  # a million end users take a while: Ctrl+C meanwhile just ends the program
        emulator = Emulator(
            host=args.host,
            port=args.port,
            clock=clock,
            client_id=args.client_id,
            client_secret=args.client_secret,
            rate_limit=args.rate_limit,
            users=args.users,
            seed=args.seed,
            end_users=None if args.data is None else _read_lines(args.data),
            profile=args.profile,
            purge_delay=args.purge_delay,
            responses_per_user=args.responses_per_user,
        )
    except KeyboardInterrupt:
        return 130
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator.start()
    print(f"listening on {emulator.base_url}", flush=True)
    # a local emulator's demo credentials: printing them is the point
    print(f"client_id={args.client_id}", flush=True)
    print(f"client_secret={args.client_secret}", flush=True)
    print(f"username={DEFAULT_USERNAME} password={DEFAULT_PASSWORD}", flush=True)
    print(f"end_users={emulator.store.count()}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

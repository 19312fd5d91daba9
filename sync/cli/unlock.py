"""Unlocking a store for a subcommand: its key the one way (:func:`sync.store.keys.prepare`),
the password read only when the key is wrapped by it, and a plaintext store converted in place
(with progress on the terminal) when policy or enrolment asks for it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..store import keys

PHASES = {
    "checkpoint": "preparing",
    "copy": "encrypting the database",
    "verify": "checking the encrypted copy",
    "replace": "replacing the plaintext file",
    "photos": "encrypting the photos",
}


def add_password_argument(p: argparse.ArgumentParser, *, pin: bool = True) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (stores whose key it protects: no keyring)",
    )
    if pin:
        p.add_argument(
            "--pin-stdin",
            action="store_true",
            help="unlock with the PIN read from standard input (set at gridroom login --pin-stdin)",
        )


def read_pin(args: argparse.Namespace) -> str | None:
    if not getattr(args, "pin_stdin", False):
        return None
    return sys.stdin.readline().strip() or None


def progress_printer(command: str, path: Path) -> keys.Progress:
    """A progress callback that says on stderr what the conversion is doing."""
    shown: dict[str, Any] = {"started": False, "phase": ""}
    tty = sys.stderr.isatty()

    def report(done: int, total: int, phase: str) -> bool:
        if not shown["started"]:
            shown["started"] = True
            print(f"gridroom {command}: encrypting {path} in place…", file=sys.stderr)
        if phase != shown["phase"]:
            if tty and shown["phase"]:
                print(file=sys.stderr)
            shown["phase"] = phase
            if not tty:
                print(f"  {PHASES.get(phase, phase)}", file=sys.stderr)
        if tty and total:
            percent = min(100, done * 100 // total)
            print(f"\r  {PHASES.get(phase, phase)}: {percent}%", end="", file=sys.stderr)
        return True

    return report


def unlock(
    path: str | Path, args: argparse.Namespace, command: str, password: str | None = None
) -> str | None:
    """Make the store at ``path`` ready to open; returns the password when one was read (a
    caller that signs in next reuses it instead of reading stdin twice)."""
    from .login import read_password

    path = Path(path)
    progress = progress_printer(command, path)
    pin = read_pin(args) if password is None else None
    if pin is not None:
        keys.prepare(path, pin=pin, progress=progress)
        return None
    try:
        keys.prepare(path, password=password, progress=progress)
        return password
    except (keys.KeyNeeded, keys.NotEncrypted) as exc:
        if password is not None:
            raise
        password = read_password(args, f"Password for {path.name}: ")
        if not password:
            raise type(exc)(
                f"{exc} Give the password with --password-stdin.", path=exc.path
            ) from None
    keys.prepare(path, password=password, progress=progress)
    return password

"""A keyring backend that keeps secrets in one JSON file, for the fault tests only.

The fault campaign runs ``gridroom sync`` as a real subprocess and kills it; the subprocess must
find the device's token where the harness (another process) put it. Setting
``PYTHON_KEYRING_BACKEND=tests.faults.filekeyring.FileKeyring`` and
``GRIDROOM_TEST_KEYRING=<file>`` in the child's environment makes ``keyring`` load this class,
so the client takes its normal keyring path (``KeyringTokens``) end to end.

It is a plain-text file on purpose and lives in a test's temporary folder: never use it outside
tests (the app itself refuses file keyrings, see ``sync.client.tokens``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties

ENV = "GRIDROOM_TEST_KEYRING"


class FileKeyring(KeyringBackend):
    """Secrets in the JSON file named by ``$GRIDROOM_TEST_KEYRING`` (or ``path``)."""

    @properties.classproperty
    def priority(cls) -> float:
        # Viable only where a test asked for it: keyring considers every imported backend
        # class, and a fixed priority made this one the default for the rest of the test
        # session (tests collected after tests/faults then failed for want of a file).
        if not os.environ.get(ENV):
            raise RuntimeError(f"FileKeyring is only for tests that set {ENV}")
        return 1

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        where = path or os.environ.get(ENV)
        if not where:
            raise RuntimeError(f"FileKeyring needs a file: set {ENV}")
        self.path = Path(where)

    def _load(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def _save(self, items: dict[str, str]) -> None:
        # Write-then-rename: a process killed mid-write must not leave half a file behind.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keyring-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(items, fh)
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[f"{service}\n{username}"] = password
        self._save(items)

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        if items.pop(f"{service}\n{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._save(items)

"""Regressions in the Qt binding itself that would take the app down."""

from __future__ import annotations

import subprocess
import sys

EMIT_MANY = """
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Source(QObject):
    changed = Signal()
source = Source()
for _ in range(20000):
    source.changed.emit()
print("survived")
"""


def test_many_signal_emits_do_not_abort_the_interpreter() -> None:
    # PySide6 6.12.0 loses a reference to True per emit and aborts after ~600 of them with
    # "bool_dealloc: deallocating True or False"; the app relays every background result by
    # signal, so it would die within minutes. pyproject.toml pins PySide6 below 6.12.
    result = subprocess.run(
        [sys.executable, "-c", EMIT_MANY], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "survived"

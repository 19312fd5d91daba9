"""The 走访 / 巡查 / 工作台账 page: field work beside the cases (visits with follow-ups that become
cases, patrols with findings, and each worker's ledger that a supervisor signs off)."""

from .page import FieldWorkPage

__all__ = ["FieldWorkPage"]

"""What the case detail says about the county's part in a case (上报, 受理, 交办), and why a
township account may only follow a case at county level."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from sync.model.records import Actor, Level
from sync.model.workflow import CaseState

from .. import words

translate = QCoreApplication.translate


def county_lines(state: CaseState, accounts: dict[str, str] | None = None) -> list[str]:
    """Plain sentences: escalated when, waiting for the county or held by it; handed down
    when, by whom, with which instructions."""
    out: list[str] = []
    s = state
    if s.level >= Level.COUNTY and s.escalated_at is not None:
        if s.awaiting_county:
            out.append(
                translate(
                    "CountyNotes",
                    "Escalated to the county on %1: waiting for the county command centre to "
                    "take it in.",
                ).replace("%1", words.when(s.escalated_at))
            )
        elif s.county_received_at is not None:
            out.append(
                translate(
                    "CountyNotes",
                    "Escalated to the county on %1; the county command centre took it in on %2.",
                )
                .replace("%2", words.when(s.county_received_at))
                .replace("%1", words.when(s.escalated_at))
            )
    down = s.handed_down
    if down is not None and s.level < Level.COUNTY:
        who = (accounts or {}).get(str(down.get("by")), "")
        text = translate("CountyNotes", "Handed down by the county on %1%2: %3")
        out.append(
            text.replace("%3", str(down.get("instructions") or ""))
            .replace("%2", f"（{who}）" if who else "")
            .replace("%1", words.when(int(down.get("at") or 0)))
        )
    return out


def read_only_reason(state: CaseState, actor: Actor) -> str:
    """Why the steps of a case at county level are not offered to a township account ("" when
    they are)."""
    if state.level >= Level.COUNTY and actor.township is not None:
        return translate(
            "CountyNotes",
            "This case was escalated to the county: the county command centre accepts, "
            "dispatches, verifies and decides on it. You can follow its progress here and add "
            "comments; your units report on what the county hands to them.",
        )
    return ""

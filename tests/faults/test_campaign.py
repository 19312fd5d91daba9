"""The fault campaign, short: every kind of fault, each followed by a clean sync after which
device and county must hold identical data (see :mod:`tests.faults.campaign`; the long run is
``python -m tests.faults.campaign --runs 300``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .campaign import KINDS, Campaign

#: Two runs of each kind: about a minute on a shared two-core machine.
RUNS = 2 * len(KINDS)


@pytest.mark.slow
def test_a_short_fault_campaign_loses_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    with Campaign(tmp_path, seed=11, log=lines.append) as campaign:
        for i in range(RUNS):
            campaign.run(i)
        # Two points every sync reaches, so that a kill surely lands on each side: the client
        # killed with the county's first answer unread; the county killed with the push
        # committed and its answer not yet sent.
        campaign.run(RUNS, "client_point", "reply:sync:1")
        campaign.run(RUNS + 1, "server_point", "push:answer:1")
        result = campaign.summary()
    failed = result["first_failures"]
    assert result["failed_runs"] == 0, "\n".join(lines) + f"\n{failed}"
    assert result["runs"] == RUNS + 2
    assert (result["losses"], result["duplicates"], result["differences"]) == (0, 0, 0)
    assert (result["stuck"], result["damaged"], result["tracebacks"]) == (0, 0, 0)
    assert result["drift_repairs"] == 0 and result["clean_sync_failures"] == 0
    # The faults did happen: kills landed, the county went down and came back, answers were
    # damaged, and syncs had to retry.
    injected = result["faults_injected"]
    expected = set(KINDS) if result["disk_full"] == "ran" else set(KINDS) - {"disk_full"}
    assert set(injected) == expected, injected
    assert result["clients_killed"] >= 1
    assert result["county_restarts"] >= 2
    assert result["flips"] >= 2
    assert result["faulted_syncs_retried"] >= 2
    assert result["entries_made"] > 20

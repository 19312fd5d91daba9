"""The demo township generator, through the real ``gridroom demo`` entry point.

Stores are built on real files by ``sync.cli.main([...])`` (and once by a separate process), then
read back through :class:`sync.store.Store`: every loop state is present, every timeline is
legal, the places are the real villages with synthetic grids under their codes, everything
synthetic says so, the same seed builds the same bytes of content, and bad input is refused in
plain words without touching anything.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync import cli
from sync.demo.build import Cancelled, DemoSpec, Progress, build, build_demo
from sync.demo.cases import CaseMaker
from sync.demo.places import DEPARTMENTS, build_world
from sync.model import divisions
from sync.model.calendar import SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import (
    DONE_STATUSES,
    DROPPED_STATUSES,
    OPEN_STATUSES,
    Action,
    GridKind,
    Role,
    Status,
)
from sync.model.workflow import default_rules, project
from sync.store import CaseQuery, Store

TOWNSHIP = "330825002"  # 龙游县东华街道
NOW = "2026-11-20T10:00+08:00"
NOW_MS = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
CASES = 600


def run_demo(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["demo", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 600-case demo of 东华街道 built by the CLI; (path, what it printed)."""
    out = tmp_path_factory.mktemp("demo") / "donghua.sqlite"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(
            ["demo", "--township", TOWNSHIP, "--cases", str(CASES), "--seed", "3",
             "--now", NOW, "--out", str(out)]
        )  # fmt: skip
    assert code == 0
    return out, printed.getvalue()


@pytest.fixture
def store(demo: tuple[Path, str]) -> Iterator[Store]:
    with Store.open(demo[0], clock=lambda: NOW_MS) as opened:
        yield opened


# -- the loop ---------------------------------------------------------------------------------


def test_every_state_of_the_loop_is_present(store: Store) -> None:
    statuses = {r[0] for r in store.read("SELECT DISTINCT status FROM cases")}
    assert statuses == {s.value for s in Status}
    actions = {r[0] for r in store.read("SELECT DISTINCT action FROM case_events")}
    expected = {a.value for a in Action} - {
        Action.SETTLE.value,  # nothing conflicts in generated data
        Action.DENY_PARK.value,  # rare paths: present in large demos, not guaranteed in 600
        Action.DENY_EXTENSION.value,
        Action.EDIT.value,
    }
    assert expected <= actions
    levels = {r[0] for r in store.read("SELECT DISTINCT level FROM cases")}
    assert levels == {1, 2, 3, 4}
    # Joint dispatch (联合处置): a lead and assisting units on one case.
    joint = store.read(
        "SELECT count(*) FROM (SELECT case_rowid FROM case_tasks GROUP BY case_rowid "
        "HAVING count(*) > 1 AND sum(lead) = 1)"
    )[0][0]
    assert joint > 0
    # Extensions, urges, failed verifications and returns leave marks on the projection too.
    assert store.read("SELECT count(*) FROM cases WHERE urges > 0")[0][0] > 0
    assert store.read("SELECT count(*) FROM cases WHERE self_handled = 1")[0][0] > 0
    overdue = store.cases(CaseQuery(light="red"), limit=5)
    assert overdue and all(r["light"] == "red" for r in overdue)


def test_every_timeline_is_legal_and_matches_its_row(store: Store) -> None:
    ids = [r[0] for r in store.read("SELECT id FROM cases ORDER BY rowid")]
    assert len(ids) == CASES
    for case_id in ids:
        timeline = store.timeline(case_id)
        state = project(timeline, store.rules)
        assert state.conflicts == [] and state.field_conflicts == [], case_id
        row = store.case_row(case_id)
        assert row is not None and row["status"] == state.status.value
        assert timeline[0].action in (Action.REPORT, Action.SELF_HANDLE)
        stamps = [e.at for e in timeline]
        assert stamps == sorted(stamps) and max(stamps) <= NOW_MS


def test_times_make_sense(store: Store) -> None:
    year_ago = NOW_MS - 366 * 86_400_000
    rows = store.read("SELECT reported_at, accepted_at, closed_at, status FROM cases")
    assert all(year_ago <= r[0] <= NOW_MS for r in rows)
    accept_hours = sorted((r[1] - r[0]) / 3_600_000 for r in rows if r[1] and r[1] > r[0])
    # Most cases are accepted within two hours; none waits for days.
    assert accept_hours[len(accept_hours) // 2] < 2 and accept_hours[-1] < 24
    # Old cases are finished; open ones are recent.
    old = [r for r in rows if r[0] < NOW_MS - 90 * 86_400_000]
    finished = {s.value for s in (*DONE_STATUSES, *DROPPED_STATUSES, Status.PARKED)}
    assert sum(r[3] in finished for r in old) / len(old) > 0.98


def test_ids_are_time_ordered_uuid7_stamped_with_their_instant(store: Store) -> None:
    for case_id, reported_at in store.read("SELECT id, reported_at FROM cases LIMIT 200"):
        u = uuid.UUID(case_id)
        assert u.version == 7 and u.variant == uuid.RFC_4122
        assert u.int >> 80 == reported_at
    for entry_id, at in store.read("SELECT id, at FROM case_events LIMIT 500"):
        u = uuid.UUID(entry_id)
        assert u.version == 7 and u.int >> 80 == at


def test_case_numbers_are_unique_and_well_formed(store: Store) -> None:
    numbers = [r[0] for r in store.read("SELECT case_no FROM cases")]
    assert len(set(numbers)) == len(numbers)
    for no in numbers[:50]:
        township, day, device, seq = no.split("-")
        assert township == TOWNSHIP and len(day) == 6 and len(device) == 4 and seq.isdigit()
    # The store's own device never numbers like a demo device would.
    assert not any(f"-{store.device_code}-" in n for n in numbers)


# -- places, people, accounts -----------------------------------------------------------------


def test_real_villages_with_synthetic_grids_under_their_codes(store: Store) -> None:
    villages = {d.code: d for d in store.divisions("village")}
    real = {d.code for d in divisions.children(TOWNSHIP)}
    assert set(villages) == real and len(real) == 28
    grids = store.grids()
    basic = collections.Counter(g.village_code for g in grids if g.kind != GridKind.DEDICATED)
    assert set(basic) == real and set(basic.values()) <= {2, 3}
    for g in grids:
        assert g.code.startswith(g.village_code) and len(g.code) == 15
        village = villages[g.village_code]
        if g.kind == GridKind.DEDICATED:
            assert g.name.endswith("专属网格") and g.dedicated_to
        else:
            assert g.name == f"{divisions.short_name(village.name)}第{int(g.code[-3:])}网格"
            assert g.kind == (GridKind.URBAN if divisions.is_urban(village) else GridKind.RURAL)
    dedicated = [g.dedicated_to or "" for g in grids if g.kind == GridKind.DEDICATED]
    assert len(dedicated) == 4 and any("小学" in d for d in dedicated)
    assert any(g.oversize for g in grids) and not all(g.oversize for g in grids)
    # Basic grids are numbered 001, 002, … within their village without gaps.
    by_village: dict[str, list[int]] = collections.defaultdict(list)
    for g in grids:
        by_village[g.village_code].append(int(g.code[-3:]))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in by_village.values())


def test_teams_departments_and_accounts(store: Store) -> None:
    grids = store.grids()
    for g in grids[:10]:
        roles = collections.Counter(s.role.value for s in store.staff(g.code))
        assert roles == {"leader": 1, "fulltime": 1, "parttime": 1, "instructor": 1, "liaison": 1}
        for s in store.staff(g.code):
            assert s.phone.isdigit() and len(s.phone) == 11 and 2 <= len(s.name) <= 3
    assert [d.code for d in store.departments()] == sorted(d.code for d in DEPARTMENTS)
    assert {d.name for d in store.departments()} >= {"派出所", "司法所", "综合执法", "民政"}
    operator = store.account("demo-operator")
    assert operator is not None and operator.role == Role.OPERATOR
    by_role = collections.Counter(a.role for a in store.accounts())
    assert by_role[Role.SUPERVISOR] >= 1 and by_role[Role.COUNTY_ADMIN] == 1
    assert by_role[Role.DEPARTMENT] == len(DEPARTMENTS)
    workers = {a.grid_ids: a for a in store.accounts(Role.GRID_WORKER)}
    assert set(workers) == {(g.code,) for g in grids}


def test_cases_stand_on_real_places_and_read_like_real_ones(store: Store) -> None:
    grid_village = {g.code: g.village_code for g in store.grids()}
    real = {d.code: divisions.short_name(d.name) for d in divisions.children(TOWNSHIP)}
    rows = store.read("SELECT grid_code, village_code, title, address FROM cases")
    for grid, village, _title, address in rows:
        assert grid_village[grid] == village and village in real
        assert address.startswith("东华街道" + real[village])
    with_village = sum(real[v] in t for _, v, t, _ in rows)
    assert with_village / len(rows) > 0.8
    assert len({r[2] for r in rows}) > len(rows) * 0.9  # varied titles
    for word in ("纠纷", "垃圾", "漏水"):
        hits = store.cases(CaseQuery(text=word), limit=20)
        assert len(hits) >= 3
        for hit in hits:
            row = store.case_row(hit["id"])
            assert row is not None
            assert word in row["title"] + row["description"] + row["address"]


def test_synthetic_data_is_labelled(store: Store, demo: tuple[Path, str]) -> None:
    assert store.synthetic and store.meta("synthetic") == "1"
    assert store.read("SELECT count(*) FROM grids WHERE synthetic = 0")[0][0] == 0
    assert store.read("SELECT count(*) FROM staff WHERE synthetic = 0")[0][0] == 0
    assert "合成数据 synthetic" in demo[1]
    assert "demo-operator" in demo[1]
    # Demo history is not local work waiting to sync.
    assert store.outbox_size() == 0


# -- proportions (in memory: no store needed to count) ------------------------------------------


def test_proportions_look_like_a_real_township() -> None:
    scope = divisions.by_code()[TOWNSHIP]
    world = build_world(7, scope, divisions.scope_divisions(TOWNSHIP))
    rules = default_rules()
    maker = CaseMaker(world, rules, seed=7, now=NOW_MS, months=12, count=4000, showcase=False)
    states = [project(t, rules) for t in maker.timelines()]
    n = len(states)
    status = collections.Counter(s.status for s in states)
    open_ = [s for s in states if s.status in OPEN_STATUSES]
    overdue = [s for s in open_ if s.due_at is not None and s.due_at < NOW_MS]
    assert 0.03 <= sum(s.self_handled for s in states) / n <= 0.08
    dropped = (status[Status.REJECTED] + status[Status.MERGED]) / n
    assert 0.015 <= dropped <= 0.06
    assert (status[Status.ARCHIVED] + status[Status.EVALUATED]) / n > 0.85
    assert 0.005 <= len(open_) / n <= 0.05
    assert 0.01 <= len(overdue) / len(open_) <= 0.12
    # Handled cases are mostly on time. (Self-handled ones are left out: the workflow sets their
    # handling deadline to the report instant, so any later verification counts as late.)
    late = [s for s in states if s.on_time is False and not s.self_handled]
    assert 0.01 < len(late) / n < 0.08


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_store_different_seed_different_store(
    tmp_path: Path, store_digest: Callable[[Path], str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--township", TOWNSHIP, "--cases", "250", "--now", NOW, "--quiet"]
    a, b, c = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "c.sqlite"
    assert run_demo([*args, "--seed", "5", "--out", str(a)], capsys)[0] == 0
    # The second build runs in another process with another hash seed: nothing may depend on
    # set or dict ordering of strings, or on the process.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-c", "import sys; from sync import cli; sys.exit(cli.main(sys.argv[1:]))",
         "demo", *args, "--seed", "5", "--out", str(b)],
        check=True, env=env, cwd=Path(__file__).resolve().parents[2], capture_output=True,
    )  # fmt: skip
    assert run_demo([*args, "--seed", "6", "--out", str(c)], capsys)[0] == 0
    assert store_digest(a) == store_digest(b)
    assert store_digest(a) != store_digest(c)


# -- a county ---------------------------------------------------------------------------------


def test_a_county_build_spans_its_townships(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:  # fmt: skip
    out = tmp_path / "county.sqlite"
    code, printed, _ = run_demo(
        ["--county", "330822", "--cases", "400", "--now", NOW, "--out", str(out), "--quiet"],
        capsys,
    )
    assert code == 0 and "常山县" in printed
    with Store.open(out, clock=lambda: NOW_MS) as store:
        townships = {r[0] for r in store.read("SELECT DISTINCT township_code FROM cases")}
        assert len(townships) >= 10 and all(t.startswith("330822") for t in townships)
        dedicated = store.read("SELECT count(*) FROM grids WHERE kind = 'dedicated'")[0][0]
        assert dedicated == 4 * len(divisions.children("330822"))
        assert store.account("demo-operator") is not None


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "code", "words"),
    [
        ("--township", "330899999", "unknown township code 330899999"),
        ("--county", "330899", "unknown county code 330899"),
        ("--county", "330825002", "330825002 is a township (东华街道), not a county"),
        ("--township", "330825", "330825 is a county (龙游县), not a township"),
        ("--township", "东华", "unknown township code 东华"),
    ],
)
def test_bad_codes_exit_2_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, code: str, words: str
) -> None:
    out = tmp_path / "x.sqlite"
    status, printed, err = run_demo([flag, code, "--out", str(out), "--cases", "5"], capsys)
    assert status == 2 and words in err and "Traceback" not in err
    assert "quzhou_3308.csv" in err or "use --" in err
    assert printed == "" and list(tmp_path.iterdir()) == []


def test_other_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.sqlite"
    base = ["--township", TOWNSHIP, "--out", str(out)]
    assert "negative" in run_demo([*base, "--cases", "-1"], capsys)[2]
    assert "--out PATH" in run_demo(["--township", TOWNSHIP], capsys)[2]
    assert "--township CODE" in run_demo(["--out", str(out)], capsys)[2]
    status, _, err = run_demo([*base, "--now", "yesterday"], capsys)
    assert status == 2 and "not a date and time" in err
    assert list(tmp_path.iterdir()) == []
    assert run_demo(["--list"], capsys)[1].count("\n") >= 106  # 6 counties, 100 townships


def test_an_existing_file_is_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine.sqlite"
    out.write_bytes(b"precious work")
    args = ["--township", TOWNSHIP, "--cases", "30", "--now", NOW, "--out", str(out), "--quiet"]
    status, _, err = run_demo(args, capsys)
    assert status == 2 and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"precious work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.sqlite"]
    assert run_demo([*args, "--force"], capsys)[0] == 0
    with Store.open(out) as store:
        assert store.count() == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.sqlite"]


def test_cancelling_leaves_nothing_behind(tmp_path: Path) -> None:
    class CancelMidway(Progress):
        def changed(self) -> None:
            if self.phase == "cases" and self.done >= 100:
                self.cancel()

    out = tmp_path / "demo.sqlite"
    with pytest.raises(Cancelled):
        build_demo(out, DemoSpec(TOWNSHIP, cases=2000, now=NOW_MS), progress=CancelMidway(),
                   batch=200)  # fmt: skip
    assert list(tmp_path.iterdir()) == []
    # The desktop's callback form: returning False stops the build, and nothing is left.
    seen: list[tuple[int, int]] = []

    def callback(done: int, total: int) -> bool:
        seen.append((done, total))
        return done < 100

    assert build(out, township=TOWNSHIP, cases=2000, now=NOW_MS, progress=callback) is None
    assert seen and seen[0][1] == 2000 and list(tmp_path.iterdir()) == []
    summary = build(out, township=TOWNSHIP, cases=40, now=NOW_MS, progress=lambda d, t: True)
    assert summary is not None and summary.cases == 40 and out.exists()

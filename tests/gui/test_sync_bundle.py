"""The 同步 page's 导出同步包 / 导入同步包: with the county out of reach, a case goes to the
county on a (folder standing in for a) USB stick through the page, as a background op with
progress, and the county's answer comes back the same way — against a real county database
and the real ``gridroom-county bundle import`` command.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sync.county.db import Database
from sync.store import replica
from tests.e2e.conftest import REPO, county_command

from .sync_fixtures import *  # noqa: F403 (its fixtures: memory_keyring, open_app …)
from .sync_fixtures import OP, enrol, first_sync_done, running_county


def test_export_and_import_a_bundle_from_the_sync_page(
    qtbot: Any, open_app: Any, memory_keyring: Any, tmp_path: Path
) -> None:
    (tmp_path / "county").mkdir()
    with running_county("sqlite", tmp_path / "county") as county:
        path = enrol(county, OP, tmp_path / "store.sqlite")
        app = open_app(path)
        first_sync_done(qtbot, app)
        county.stop()  # no link at all from here on
        grid = app.ctx.ops.gui_store().grids()[0].code
        made: list[str] = []
        app.ctx.ops.write(
            lambda store: store.report(
                app.actor, {"title": "山路塌方", "category": "0604", "grid_id": grid}
            ).case_id
        ).success(made.append).run()
        qtbot.waitUntil(lambda: bool(made), timeout=10_000)
        page = app.window.sync
        page.export_bundle_to(tmp_path)
        qtbot.waitUntil(lambda: ".bundle" in page.bundle_status.text(), timeout=20_000)
        assert "1" in page.bundle_status.text()
        bundles = list(tmp_path.glob("gridroom-*.bundle"))
        assert len(bundles) == 1

        answer = tmp_path / "answer.bundle"
        done = subprocess.run(
            [*county_command(), "bundle", "import", str(bundles[0]), "--db", county.db_url,
             "--out", str(answer)],
            cwd=REPO, capture_output=True, text=True, timeout=120, env=county.env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with Database(county.db_url) as db, db.read() as tx:
            assert tx.scalar("SELECT count(*) FROM cases WHERE id = ?", [made[0]]) == 1

        # The device's own bundle is refused in plain words (it is not the county's answer).
        page.import_bundle_from(bundles[0])
        qtbot.waitUntil(lambda: "不是县级平台的回执" in page.bundle_status.text(), timeout=10_000)
        page.import_bundle_from(answer)
        qtbot.waitUntil(lambda: "已导入" in page.bundle_status.text(), timeout=10_000)
        assert replica.waiting(app.ctx.ops.gui_store())["changes"] == 0

"""A case's point in the quick report form: typed or picked on the map, checked to lie inside
the township, stored with the case (real form, real store with the demo's outlines)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.report.form import ReportForm
from sync.demo.geometry import build_geometry
from sync.geo import format_point
from sync.geo import geostore as gs
from sync.geo.shapes import county_outlines
from sync.model import divisions as division_data
from sync.store import Store
from tests.conftest import GRIDS, TOWNSHIP
from tests.gui.casework_fixtures import (  # noqa: F401 (_casework provides the casework fixture)
    GRID,
    Casework,
    _casework,
    show_active,
    type_text,
)
from tests.gui.test_report_form import fill


@pytest.fixture
def mapped(casework: Casework) -> Casework:
    """The casework store with outlines for 东华街道 and its fixture grids."""
    scope = division_data.by_code()[TOWNSHIP]
    villages = [d for d in division_data.scope_divisions(TOWNSHIP) if d.level.value == "village"]
    geometry = build_geometry(1, scope, villages, GRIDS)
    with Store.open(casework.path, clock=casework.clock) as store:
        gs.put_shapes(store, geometry.outlines, synthetic=True)
    return casework


def _form(qtbot, work: Casework) -> ReportForm:
    form = work.keep(ReportForm(work.ctx))
    assert isinstance(form, ReportForm)
    show_active(qtbot, form)
    return form


def _inside_grid(work: Casework) -> tuple[float, float]:
    with Store.open(work.path, clock=work.clock) as store:
        found = gs.outline(store, GRID)
    assert found is not None
    p = found.geometry.representative_point()
    return p.x, p.y


def test_a_typed_point_inside_the_township_is_stored_with_the_case(qtbot, mapped: Casework):
    form = _form(qtbot, mapped)
    fill(qtbot, form)
    lon, lat = _inside_grid(mapped)
    type_text(form.location.edit, f"{lon:.6f}, {lat:.6f}")
    with qtbot.waitSignal(form.reported, timeout=10_000) as reported:
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    case_id = reported.args[0]
    row = mapped.store.read("SELECT lon, lat, grid_code FROM cases WHERE id = ?", [case_id])[0]
    assert row[0] == pytest.approx(lon, abs=1e-6) and row[1] == pytest.approx(lat, abs=1e-6)
    assert gs.locate(mapped.store, row[0], row[1]) == GRID == row[2]
    assert form.location.text() == ""  # the form empties after a report


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("119.1", "事发位置请写成两个数：经度在前，纬度在后，如 119.1234,29.0567。"),
        ("29.0,119.2", "事发位置的经纬度似乎写反了"),
        ("outside", "事发位置 {point} 不在东华街道范围内。"),
    ],
)
def test_a_point_outside_the_township_or_malformed_is_refused_and_nothing_is_written(
    qtbot, mapped: Casework, typed: str, message: str
):
    form = _form(qtbot, mapped)
    fill(qtbot, form)
    if typed == "outside":  # a real place in 江山市, another county
        p = county_outlines()["330881"].geometry.representative_point()
        typed = format_point(p.x, p.y)
        message = message.replace("{point}", typed)
    type_text(form.location.edit, typed)
    outbox = mapped.outbox()
    with qtbot.assertNotEmitted(form.reported, wait=200):
        qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert message in form.error_text()
    assert mapped.outbox() == outbox and mapped.store.count() == 0
    assert form.location.text() == typed  # input kept


def test_a_point_picked_on_the_map_fills_the_field(qtbot, mapped: Casework):
    form = _form(qtbot, mapped)
    qtbot.mouseClick(form.location.pick_button, Qt.MouseButton.LeftButton)
    picker = form.location.picker
    assert picker is not None
    qtbot.waitUntil(picker.isVisible, timeout=3000)
    assert set(picker.map.grid_items) == {g.code for g in GRIDS}
    lon, lat = _inside_grid(mapped)
    at = picker.map.view.mapFromScene(picker.map.to_scene(lon, lat))
    qtbot.mouseClick(picker.map.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert picker.point is not None
    assert picker.ok.isEnabled()
    assert "张王村第一网格" in picker.label.text()
    picker.accept()
    got = [float(v) for v in form.location.text().split(",")]
    # One pixel of the small map is well under 100 m.
    assert got == pytest.approx([lon, lat], abs=0.001)
    assert form.location.value() == form.location.text()

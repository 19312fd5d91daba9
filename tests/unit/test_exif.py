"""A patrol's location from a real JPEG's EXIF GPS (written by Pillow in the test)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from sync.geo.exif import gps_location, location_of_file


def jpeg(gps: dict[int, object] | None) -> bytes:
    exif = Image.Exif()
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


G = ExifTags.GPS


def test_degrees_minutes_seconds_north_east() -> None:
    data = jpeg(
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: (29.0, 2.0, 35.16),
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: (119.0, 10.0, 21.0),
        }
    )
    lon, lat = gps_location(data)  # type: ignore[misc]
    assert lon == pytest.approx(119.1725) and lat == pytest.approx(29.0431)


def test_south_and_west_are_negative(tmp_path: Path) -> None:
    data = jpeg(
        {
            G.GPSLatitudeRef: "S",
            G.GPSLatitude: (33.0, 52.0, 0.0),
            G.GPSLongitudeRef: "W",
            G.GPSLongitude: (70.0, 30.0, 0.0),
        }
    )
    path = tmp_path / "p.jpg"
    path.write_bytes(data)
    assert location_of_file(path) == "-70.500000,-33.866667"


@pytest.mark.parametrize(
    "gps",
    [
        None,
        {G.GPSLatitudeRef: "N", G.GPSLatitude: (29.0, 2.0, 35.0)},  # no longitude
        {G.GPSLatitude: (0.0, 0.0, 0.0), G.GPSLongitude: (0.0, 0.0, 0.0)},  # no fix
        {G.GPSLatitude: (95.0, 0.0, 0.0), G.GPSLongitude: (119.0, 0.0, 0.0)},  # impossible
        {G.GPSLatitude: (29.0, 75.0, 0.0), G.GPSLongitude: (119.0, 0.0, 0.0)},  # bad minutes
    ],
)
def test_no_usable_gps_gives_none(gps: dict[int, object] | None) -> None:
    assert gps_location(jpeg(gps)) is None


def test_not_an_image_or_missing_gives_none(tmp_path: Path) -> None:
    assert gps_location(b"not a picture") is None
    assert location_of_file(tmp_path / "gone.jpg") is None

"""Reference data for a county loaded from the real divisions.

Townships and villages are real (``sync.model.divisions``); the grids, their teams and the 1+N
departments on top of them come from the demo generator (``sync.demo.places``) with its default
seed, so the county's grids are exactly those of ``gridroom demo`` for the same township: a demo
desktop and a demo county describe one world.
"""

from __future__ import annotations

from ..demo.geometry import COUNTY_SOURCE, build_geometry
from ..demo.places import World, build_world
from ..geo.shapes import Outline
from ..model import divisions as division_data
from ..model.records import Department, Division, DivisionLevel

#: The demo generator's default seed (``gridroom demo`` uses it unless told otherwise).
DEMO_SEED = 1

#: The county's own bureaus (县级部门), above the county linkage centre: they take only cases
#: escalated to county level (难事不出镇: what a township can settle with its 1+N departments
#: stays there). The 1+N departments of ``sync.demo.places`` are sunk into the townships.
COUNTY_DEPARTMENTS: tuple[Department, ...] = (
    Department("housing", "县住房和城乡建设局", county=True),
    Department("water", "县水利局", county=True),
    Department("transport", "县交通运输局", county=True),
    Department("hrss", "县人力资源和社会保障局", county=True),
)


def county_divisions(county: str) -> list[Division]:
    """The county, its townships and villages (plus the city above), from the real data."""
    found = division_data.by_code().get(county)
    if found is None or found.level != DivisionLevel.COUNTY:
        raise ValueError(f"{county} is not a county of 衢州市 in the bundled division codes")
    return division_data.scope_divisions(county)


def county_world(county: str, seed: int = DEMO_SEED) -> tuple[list[Division], World]:
    """The county's divisions and its synthetic world (grids, staff, departments)."""
    divisions = county_divisions(county)
    scope = division_data.by_code()[county]
    world = build_world(seed, scope, divisions)
    world.departments = (*world.departments, *COUNTY_DEPARTMENTS)
    return divisions, world


def county_geometry(county: str, divisions: list[Division], world: World) -> list[Outline]:
    """The county's real outline and the demo's synthetic township, village and grid outlines
    inside it, the same ones ``gridroom demo`` draws for the same seed."""
    scope = division_data.by_code()[county]
    villages = [d for d in divisions if d.level == DivisionLevel.VILLAGE]
    return build_geometry(DEMO_SEED, scope, villages, world.grids).outlines


__all__ = ["COUNTY_SOURCE", "county_divisions", "county_geometry", "county_world"]

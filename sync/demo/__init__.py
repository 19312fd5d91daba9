"""Deterministic synthetic demo data standing on the real divisions of 衢州市.

The counties, townships and villages (and their statistical codes) are real; the grids, the
people in them, the department liaisons and every case are invented — deterministically, so
one seed always builds the same store — and labelled synthetic in the store (meta
``synthetic=1``, ``grids.synthetic``, ``staff.synthetic``).

- :mod:`.build` — :func:`~.build.build_demo`: a whole demo store (``gridroom demo``);
- :mod:`.places` — grids (一长三员 teams, dedicated grids), the 1+N departments, accounts;
- :mod:`.cases` — case timelines through every state of the closed loop;
- :mod:`.texts`, :mod:`.names` — what cases say and what people are called;
- :mod:`.ids` — seeded, time-ordered UUIDv7 ids and device codes.
"""

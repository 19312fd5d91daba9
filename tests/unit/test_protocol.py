"""The wire format: round trips, validation in plain words, body limits, clock arithmetic."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import protocol
from sync.model.clock import HlcStamp
from sync.model.records import Action, Actor, Attachment, Entry, Grid, GridKind, Role, Visit
from sync.model.taxonomy import default_taxonomy

ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,40}\Z")
millis = st.integers(min_value=0, max_value=4_102_444_800_000)
#: Wire text: anything but NUL, which the protocol refuses (PostgreSQL cannot store it), and
#: lone surrogates, which are no text (the wire refuses them: test_limits).
wire_text = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
payloads = st.dictionaries(
    st.text(wire_text, min_size=1, max_size=10),
    st.one_of(
        st.text(wire_text, max_size=50), st.integers(-(2**40), 2**40), st.booleans(), st.none()
    ),
    max_size=6,
)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    wall = draw(millis)
    return Entry(
        id=draw(ids),
        case_id=draw(ids),
        action=draw(st.sampled_from(list(Action))),
        actor_id=draw(ids),
        role=draw(st.sampled_from(list(Role))),
        at=draw(millis),
        hlc=HlcStamp(
            wall, draw(st.integers(0, 9999)), draw(st.from_regex(r"\A[A-Z0-9]{4}\Z"))
        ).encode(),
        payload=draw(payloads),
    )


@given(entries())
def test_entries_round_trip(e: Entry) -> None:
    wire = protocol.entry_to_wire(e)
    decoded = protocol.decode_json(protocol.dumps(wire))
    assert protocol.entry_from_wire(decoded) == e
    assert protocol.same_entry(e, protocol.entry_from_wire(decoded))


GOOD = protocol.entry_to_wire(
    Entry(
        "01a2",
        "01a3",
        Action.REPORT,
        "01a4",
        Role.OPERATOR,
        1_700_000_000_000,
        HlcStamp(1_700_000_000_000, 0, "AB12").encode(),
        {"title": "漏水"},
    )
)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"id": None}, "needs 'id'"),
        ({"action": "teleport"}, "expected one of"),
        ({"role": "mayor"}, "expected one of"),
        ({"at": "yesterday"}, "milliseconds since 1970"),
        ({"at": -5}, "milliseconds since 1970"),
        ({"at": True}, "milliseconds since 1970"),
        ({"hlc": "12:00"}, "hybrid-clock stamp"),
        ({"payload": [1, 2]}, "must be a JSON object"),
        ({"payload": {"text": "x" * (protocol.PAYLOAD_MAX + 1)}}, "exceeds"),
        ({"case_id": "../etc/passwd"}, "not a valid id"),
    ],
)
def test_malformed_entries_are_refused_in_plain_words(change: dict, words: str) -> None:
    bad = {**GOOD, **change}
    with pytest.raises(protocol.WireError) as info:
        protocol.entry_from_wire(bad)
    assert info.value.code == "malformed"
    assert words in str(info.value)


def test_not_an_object_at_all() -> None:
    with pytest.raises(protocol.WireError, match="must be a JSON object"):
        protocol.entry_from_wire(["not", "an", "entry"])  # type: ignore[arg-type]


def test_records_round_trip() -> None:
    a = Attachment(
        "att1", "case1", "a" * 64, "照片.jpg", "image/jpeg", 1234, 1_700_000_000_000, "e1"
    )
    assert protocol.attachment_from_wire(protocol.attachment_to_wire(a)) == a
    v = Visit("v1", "330825102200001", "S1", "visit", 1_700_000_000_000, "张家", "走访记录")
    assert protocol.visit_from_wire(protocol.visit_to_wire(v)) == v
    g = Grid(
        "330825102200001", "330825102200001", "第1网格", "330825102200", GridKind.RURAL, 200, 500
    )
    assert protocol.grid_from_wire(protocol.grid_to_wire(g)) == g
    actor = Actor("u1", "值班员", Role.GRID_WORKER, None, ("330825102200001",))
    assert protocol.account_from_wire(protocol.account_to_wire(actor)) == actor
    taxonomy = default_taxonomy()
    back = protocol.taxonomy_from_wire(protocol.taxonomy_to_wire(taxonomy))
    assert protocol.taxonomy_to_wire(back) == protocol.taxonomy_to_wire(taxonomy)


def test_record_checks() -> None:
    with pytest.raises(protocol.WireError, match="64 lowercase"):
        protocol.attachment_from_wire(
            {
                **protocol.attachment_to_wire(Attachment("a", "c", "A" * 64, "n", "m", 1, 1)),
                "sha256": "A" * 64,
            }
        )
    with pytest.raises(protocol.WireError, match="'visit' or 'patrol'"):
        protocol.visit_from_wire(
            {"id": "v", "grid_id": "g", "staff_id": "s", "kind": "party", "at": 1, "content": "x"}
        )
    with pytest.raises(protocol.WireError, match="unknown parent"):
        protocol.taxonomy_from_wire(
            [
                {
                    "code": "0101",
                    "name": "x",
                    "parent": "01",
                    "normal": {"accept_hours": 1, "handle_days": 1},
                    "urgent": {"accept_hours": 1, "handle_hours": 1},
                }
            ]
        )
    with pytest.raises(protocol.WireError, match="either handle_days or handle_hours"):
        protocol.taxonomy_from_wire(
            [
                {
                    "code": "01",
                    "name": "x",
                    "normal": {"accept_hours": 1},
                    "urgent": {"accept_hours": 1, "handle_hours": 1},
                }
            ]
        )


def test_bodies_are_always_gzipped() -> None:
    # Even a small body: the gzip CRC-32 is what catches a byte damaged on the way.
    small, headers = protocol.encode_body({"cursor": 0})
    assert headers["Content-Encoding"] == "gzip"
    assert protocol.decode_json(protocol.gunzip(small)) == {"cursor": 0}
    big_value = {"entries": [GOOD] * 50}
    big, headers = protocol.encode_body(big_value)
    assert headers["Content-Encoding"] == "gzip"
    assert len(big) < len(protocol.dumps(big_value)) / 5
    assert protocol.decode_json(protocol.gunzip(big)) == big_value


def test_gzip_bombs_and_damage_are_refused() -> None:
    bomb = gzip.compress(b"\0" * (2 * 1024 * 1024))
    with pytest.raises(protocol.WireError) as info:
        protocol.gunzip(bomb, limit=1024 * 1024)
    assert info.value.code == "too_large"
    with pytest.raises(protocol.WireError) as info:
        protocol.gunzip(b"\x1f\x8b\x08garbage")
    assert info.value.code == "bad_request"
    with pytest.raises(protocol.WireError, match="not valid JSON"):
        protocol.decode_json(b"{nope")


def test_a_streamed_gzip_body_stops_inflating_at_the_limit() -> None:
    # Fed as it arrives, a bomb is refused once the inflated bytes pass the limit, not after.
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    inflater = protocol.Inflater(limit=1024 * 1024)
    with pytest.raises(protocol.WireError) as info:
        for i in range(0, len(bomb), 1024):
            inflater.feed(bomb[i : i + 1024])
    assert info.value.code == "too_large"
    assert inflater.size <= 1024 * 1024 + 1
    assert i < len(bomb) // 10  # it stopped early in the stream
    whole = protocol.Inflater()
    body = gzip.compress(protocol.dumps({"cursor": 7}))
    for i in range(len(body)):
        whole.feed(body[i : i + 1])
    assert protocol.decode_json(whole.finish()) == {"cursor": 7}
    cut = protocol.Inflater()
    cut.feed(body[:-4])
    with pytest.raises(protocol.WireError, match="cut short"):
        cut.finish()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b'{"t": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b"[" * 33 + b"]" * 33, "nests deeper than 32"),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than 32"),
        (b'"\xc3\x28"', "not UTF-8"),
    ],
)
def test_json_bodies_that_are_no_text_are_refused(text: bytes, why: str) -> None:
    with pytest.raises(protocol.WireError, match=why) as info:
        protocol.decode_json(text)
    assert info.value.code == "bad_request"


def test_json_bodies_within_the_rules_decode() -> None:
    assert protocol.decode_json(b'{"t": "\\ud83d\\ude00"}') == {"t": "\U0001f600"}
    assert protocol.decode_json(b"[" * 32 + b"]" * 32) is not None


NOW = 1_800_000_000_000


def test_stamps_in_the_present_and_past_stand() -> None:
    assert (
        protocol.clamp_stamp(NOW, HlcStamp(NOW, 3, "AB").encode(), server_now=NOW, device_offset=0)
        is None
    )
    assert (
        protocol.clamp_stamp(
            NOW - 10**11,
            HlcStamp(NOW - 10**11, 0, "AB").encode(),
            server_now=NOW,
            device_offset=10**11,
        )
        is None
    )
    within = NOW + protocol.MAX_FUTURE_MS
    assert (
        protocol.clamp_stamp(
            within, HlcStamp(within, 0, "AB").encode(), server_now=NOW, device_offset=0
        )
        is None
    )


@given(
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 50)), min_size=2, max_size=20),
    st.integers(10**9, 10**12),
)
def test_clamped_stamps_keep_their_order_and_never_pass_now(
    steps: list[tuple[int, int]], ahead: int
) -> None:
    stamps = sorted(
        HlcStamp(NOW + protocol.MAX_FUTURE_MS + 1 + wall, counter, "DEV1")
        for wall, counter in steps
    )
    out: list[str] = []
    for s in stamps:
        clamped = protocol.clamp_stamp(
            s.wall,
            s.encode(),
            server_now=NOW,
            device_offset=-ahead,
            after=out[-1] if out else None,
        )
        assert clamped is not None
        at, hlc = clamped
        assert at <= NOW
        decoded = HlcStamp.decode(hlc)
        assert decoded.wall <= NOW and decoded.device == "DEV1"
        out.append(hlc)
    assert out == sorted(out), "a uniform shift (then a cap) keeps the device's own order"
    assert len(set(out)) == len(out), "no two of the device's stamps collapse into one"


def test_squeezed_stamps_keep_their_order_whatever_their_counters() -> None:
    # Found by Hypothesis: two stamps a second apart, both capped to now, counters 50 then 0.
    late = NOW + protocol.MAX_FUTURE_MS + 10**9
    first = HlcStamp(late, 50, "DEV1").encode()
    second = HlcStamp(late + 1_000, 0, "DEV1").encode()
    one = protocol.clamp_stamp(late, first, server_now=NOW, device_offset=-1)
    assert one is not None
    two = protocol.clamp_stamp(late + 1_000, second, server_now=NOW, device_offset=-1, after=one[1])
    assert two is not None
    assert one[1] < two[1]


def test_offset_from_one_round_trip() -> None:
    # Device clock 10 s behind, 400 ms round trip: the midpoint estimate is exact.
    assert protocol.measured_offset(1_000, 1_400, 11_200) == 10_000
    assert protocol.measured_offset(1_000, 1_000, 1_000) == 0


@given(st.sets(ids, max_size=30), st.sets(ids, max_size=30))
def test_checksums_are_additive_and_order_free(a: set[str], b: set[str]) -> None:
    n_a, s_a = protocol.checksum(sorted(a))
    n_b, s_b = protocol.checksum(sorted(b - a, reverse=True))
    assert protocol.checksum(a | b) == (n_a + n_b, s_a + s_b)
    assert all(0 <= protocol.item_hash(i) < 2**31 for i in a)


def test_checksums_notice_a_missing_record() -> None:
    full = [f"e{i}" for i in range(100)]
    assert protocol.checksum(full) != protocol.checksum(full[:-1])
    assert protocol.checksum(full) != protocol.checksum([*full[:-1], "other"])


def test_scope_ids_name_the_set() -> None:
    assert protocol.scope_id(["t:1", "c:2"]) == protocol.scope_id({"c:2", "t:1"})
    assert protocol.scope_id(["t:1"]) != protocol.scope_id(["t:2"])


def test_places() -> None:
    assert protocol.county_of("330825102200001") == "330825"
    assert protocol.township_of("330825102200") == "330825102"
    assert protocol.township_of("330825102") is None


def test_errors_say_what_to_do() -> None:
    body = protocol.error_body("throttled", "Too many failed sign-ins.", retry_after=60)
    assert body == {
        "error": {
            "code": "throttled",
            "message": "Too many failed sign-ins.",
            "retry": True,
            "retry_after": 60,
        }
    }
    assert {e.status for e in protocol.ERRORS.values()} >= {
        400,
        401,
        403,
        404,
        409,
        413,
        426,
        429,
        500,
        503,
    }
    assert all(text for text in protocol.REJECT_CODES.values())

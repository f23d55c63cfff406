"""The envelope (docs/architecture.md, contract 2): its codec, its ids, its errors, its Kafka key.

Over 400 lines: every way a record can be refused is a case of its own, kept with the codec's.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from foundation.errors import DecodeError, FeynmanError
from schemas.envelope import (
    MAX_ID_LEN,
    Envelope,
    Replay,
    decode,
    encode,
    new_envelope,
    ordering_key,
    replayed,
)
from schemas.events import ConversationEnded, LlmUsage, MemoryRequested
from schemas.registry import REGISTRY
from tests.schemas.samples import (
    CHAT_TURN_EN,
    CHAT_TURN_ZH,
    DEAD_LETTER,
    LLM_USAGE,
    SAMPLES,
    TASK_STATUS,
)

NEWEST_CHAT_TURN = REGISTRY.latest("chat.turn")[0]  # type: ignore[index]
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def valid_record(payload: BaseModel = CHAT_TURN_EN, **changes: Any) -> dict[str, Any]:
    """A decodable envelope as a JSON object, with some fields changed."""
    obj = orjson.loads(encode(new_envelope(payload)))
    obj.update(changes)
    return obj


def decode_error(raw: bytes | dict[str, Any]) -> DecodeError:
    if isinstance(raw, dict):
        raw = orjson.dumps(raw)
    with pytest.raises(DecodeError) as info:
        decode(raw)
    return info.value


# --- round trip --------------------------------------------------------------


def test_the_samples_cover_every_registered_event_type() -> None:
    assert {name.split("/")[0] for name in SAMPLES} == set(REGISTRY.types())


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=SAMPLES.keys())
def test_every_event_type_survives_encode_then_decode_unchanged(payload: BaseModel) -> None:
    envelope = new_envelope(payload, trace_id="4bf92f3577b34da6a3ce929d0e0e4736", source="api@host-a")

    decoded = decode(encode(envelope))

    assert decoded == envelope
    assert type(decoded.data) is type(payload)
    assert decoded.data == payload


def test_chinese_text_is_encoded_as_utf8_and_read_back_verbatim() -> None:
    raw = encode(new_envelope(CHAT_TURN_ZH))

    assert "光合作用".encode() in raw
    decoded = decode(raw)
    assert decoded.data.topic == "光合作用"
    assert decoded.data.user_input == CHAT_TURN_ZH.user_input
    assert decoded.data.questions == CHAT_TURN_ZH.questions


def test_decode_accepts_a_str_as_well_as_bytes() -> None:
    raw = encode(new_envelope(CHAT_TURN_ZH))

    assert decode(raw.decode()) == decode(raw)


# --- the JSON shape ----------------------------------------------------------


def test_the_encoded_envelope_has_exactly_the_contract_fields() -> None:
    obj = orjson.loads(encode(new_envelope(CHAT_TURN_EN)))

    assert set(obj) == {"id", "type", "v", "ts", "data"}
    assert obj["type"] == "chat.turn"
    assert obj["v"] == 1
    assert isinstance(obj["data"], dict)


def test_trace_id_and_source_appear_only_when_given() -> None:
    obj = orjson.loads(encode(new_envelope(CHAT_TURN_EN, trace_id="t-1", source="replay")))

    assert set(obj) == {"id", "type", "v", "ts", "data", "trace_id", "source"}
    assert (obj["trace_id"], obj["source"]) == ("t-1", "replay")


def test_the_timestamp_is_rfc3339_in_utc_with_a_z() -> None:
    obj = orjson.loads(encode(new_envelope(CHAT_TURN_EN)))

    assert RFC3339_UTC.match(obj["ts"]), obj["ts"]
    ts = datetime.fromisoformat(obj["ts"])
    assert abs(datetime.now(UTC) - ts) < timedelta(minutes=1)


def test_a_timestamp_in_another_zone_is_written_as_the_same_instant_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2024, 5, 1, 21, 30, 0, 123456, tzinfo=tokyo)
    envelope = Envelope(id="e-1", type="chat.turn", v=1, ts=at, data=CHAT_TURN_EN)

    obj = orjson.loads(encode(envelope))

    assert obj["ts"] == "2024-05-01T12:30:00.123456Z"


def test_a_timestamp_with_an_offset_is_read_as_the_same_instant_in_utc() -> None:
    decoded = decode(orjson.dumps(valid_record(ts="2024-05-01T14:30:00+02:00")))

    assert decoded.ts == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert decoded.ts.utcoffset() == timedelta(0)


def test_payload_fields_left_unset_are_not_written_as_null() -> None:
    obj = orjson.loads(encode(new_envelope(CHAT_TURN_ZH)))

    assert "user_id" not in obj["data"]
    assert None not in obj["data"].values()


# --- ids ---------------------------------------------------------------------


def test_event_ids_are_uuid_version_7() -> None:
    event_id = new_envelope(CHAT_TURN_EN).id

    parsed = uuid.UUID(event_id)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert str(parsed) == event_id


def test_event_ids_sort_in_the_order_the_events_were_created() -> None:
    ids = [new_envelope(CHAT_TURN_EN).id for _ in range(2000)]

    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids


# --- every DecodeError reason ------------------------------------------------


def test_a_decode_error_is_a_feynman_error_with_a_reason_and_message() -> None:
    error = decode_error(b"nope")

    assert isinstance(error, FeynmanError)
    assert error.reason == "not_json"
    assert error.message == str(error)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"{'id': 1}", b'{"id": "a",}', b"\xff\xfe{}", b'{"topic": "caf\xe9"}'],
    ids=["broken", "empty", "single-quotes", "trailing-comma", "invalid-utf8-bom", "latin1-byte"],
)
def test_bytes_that_are_not_utf8_json_are_not_json(raw: bytes) -> None:
    assert decode_error(raw).reason == "not_json"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"chat.turn"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_not_object(raw: bytes) -> None:
    error = decode_error(raw)

    assert error.reason == "not_object"


@pytest.mark.parametrize("field", ["id", "type", "v", "ts", "data"])
def test_a_missing_envelope_field_is_named_in_the_error(field: str) -> None:
    record = valid_record()
    del record[field]

    error = decode_error(record)

    assert error.reason == "missing_field"
    assert field in error.message


def test_every_missing_field_is_named_not_just_the_first() -> None:
    record = valid_record()
    del record["ts"], record["data"]

    error = decode_error(record)

    assert error.reason == "missing_field"
    assert "ts" in error.message
    assert "data" in error.message


def test_an_unknown_envelope_field_is_rejected_and_named() -> None:
    error = decode_error(valid_record(priority="high"))

    assert error.reason == "unknown_field"
    assert "priority" in error.message


def test_an_id_of_the_maximum_length_is_accepted() -> None:
    assert decode(orjson.dumps(valid_record(id="x" * MAX_ID_LEN))).id == "x" * MAX_ID_LEN


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"id": "x" * (MAX_ID_LEN + 1)}, "'id'"),
        ({"id": ""}, "'id'"),
        ({"id": 17}, "'id'"),
        ({"type": ""}, "'type'"),
        ({"v": True}, "'v'"),
        ({"v": "1"}, "'v'"),
        ({"v": 1.0}, "'v'"),
        ({"ts": "2024-05-01T12:00:00"}, "time zone"),
        ({"ts": "yesterday at noon"}, "'ts'"),
        ({"ts": "2024-13-45T12:00:00Z"}, "'ts'"),
        ({"ts": 1714564800}, "'ts'"),
        ({"trace_id": 123}, "'trace_id'"),
        ({"source": ["api"]}, "'source'"),
    ],
    ids=[
        "id-too-long",
        "id-empty",
        "id-number",
        "type-empty",
        "v-bool",
        "v-string",
        "v-float",
        "ts-without-zone",
        "ts-not-a-date",
        "ts-impossible-date",
        "ts-number",
        "trace_id-number",
        "source-list",
    ],
)
def test_a_malformed_envelope_field_is_bad_field(changes: dict[str, Any], mentions: str) -> None:
    error = decode_error(valid_record(**changes))

    assert error.reason == "bad_field"
    assert mentions in error.message


@pytest.mark.parametrize("ts", ["20240501T120000Z", "2024-05-01T12:00Z"], ids=["basic-format", "no-seconds"])
def test_a_timestamp_that_is_iso8601_but_not_rfc3339_is_bad_field(ts: str) -> None:
    # Contract 2 says ts is RFC 3339; other clients (Java, kcat users) rely on that form.
    error = decode_error(valid_record(ts=ts))

    assert error.reason == "bad_field"


def test_an_unknown_type_lists_the_known_types() -> None:
    error = decode_error(valid_record(type="chat.message"))

    assert error.reason == "unknown_type"
    assert "chat.message" in error.message
    for known in REGISTRY.types():
        assert known in error.message


@pytest.mark.parametrize("v", [0, -1, NEWEST_CHAT_TURN + 1, NEWEST_CHAT_TURN + 98])
def test_a_version_outside_the_known_range_is_unknown_version(v: int) -> None:
    error = decode_error(valid_record(v=v))

    assert error.reason == "unknown_version"
    assert "chat.turn" in error.message
    assert str(v) in error.message


def test_a_missing_payload_field_is_invalid_payload_naming_the_field() -> None:
    record = valid_record()
    del record["data"]["user_input"]

    error = decode_error(record)

    assert error.reason == "invalid_payload"
    assert "user_input" in error.message
    assert "required" in error.message.lower()


def test_a_user_input_over_20000_characters_is_invalid_payload() -> None:
    record = valid_record()
    record["data"]["user_input"] = "说" * 20_001

    error = decode_error(record)

    assert error.reason == "invalid_payload"
    assert "user_input" in error.message
    assert "20000" in error.message


def test_a_user_input_of_exactly_20000_characters_is_accepted() -> None:
    record = valid_record()
    record["data"]["user_input"] = "说" * 20_000

    assert len(decode(orjson.dumps(record)).data.user_input) == 20_000


def test_an_extra_payload_field_is_invalid_payload_naming_the_field() -> None:
    record = valid_record()
    record["data"]["mood"] = "curious"

    error = decode_error(record)

    assert error.reason == "invalid_payload"
    assert "mood" in error.message
    assert "not permitted" in error.message


@pytest.mark.parametrize(
    ("payload", "field", "value", "why"),
    [
        (CHAT_TURN_EN, "session_id", "has spaces in it", "pattern"),
        (CHAT_TURN_EN, "questions", ["q"] * 11, "at most 10"),
        (LLM_USAGE, "prompt_tokens", -5, "greater than or equal to 0"),
        (TASK_STATUS, "status", "finished", "queued"),
        (DEAD_LETTER, "origin_offset", "last", "integer"),
    ],
    ids=["session-id-pattern", "too-many-questions", "negative-tokens", "unknown-status", "offset-not-int"],
)
def test_an_invalid_payload_value_is_explained_by_field_and_reason(
    payload: BaseModel, field: str, value: Any, why: str
) -> None:
    record = valid_record(payload)
    record["data"][field] = value

    error = decode_error(record)

    assert error.reason == "invalid_payload"
    assert field in error.message
    assert why in error.message


def test_a_payload_that_is_not_an_object_is_invalid_payload() -> None:
    error = decode_error(valid_record(data=["not", "an", "object"]))

    assert error.reason == "invalid_payload"


@pytest.mark.parametrize(
    ("sample", "field"),
    [
        ("task.retry", "due_at"),
        ("task.status", "at"),
        ("task.expired", "finished_before"),
        ("table.expiry", "as_of"),
        ("cost.report", "generated_at"),
        ("monitoring.snapshot", "at"),
    ],
)
def test_a_payload_time_without_a_time_zone_is_invalid_payload(sample: str, field: str) -> None:
    # The worker compares these with aware times: a naive due_at made the retry agent raise TypeError.
    record = valid_record(SAMPLES[sample])
    record["data"][field] = "2024-05-01T12:00:11"

    error = decode_error(record)

    assert error.reason == "invalid_payload"
    assert field in error.message
    assert "timezone" in error.message


def test_a_payload_time_with_any_offset_decodes() -> None:
    record = valid_record(SAMPLES["task.retry"])
    record["data"]["due_at"] = "2024-05-01T14:00:11+02:00"

    assert decode(orjson.dumps(record)).data.due_at == datetime(2024, 5, 1, 12, 0, 11, tzinfo=UTC)


# --- ordering key ------------------------------------------------------------


def test_a_chat_turn_is_keyed_by_its_session_even_when_it_has_a_user() -> None:
    assert ordering_key(new_envelope(CHAT_TURN_EN)) == CHAT_TURN_EN.session_id


def test_a_task_status_is_keyed_by_its_task_not_its_session() -> None:
    assert ordering_key(new_envelope(TASK_STATUS)) == TASK_STATUS.task_id


def test_llm_usage_is_keyed_by_user_first() -> None:
    assert ordering_key(new_envelope(LLM_USAGE)) == LLM_USAGE.user_id


def test_llm_usage_without_a_user_is_keyed_by_session() -> None:
    usage = LlmUsage(model="m", prompt_tokens=1, completion_tokens=1, latency_ms=1, session_id="s-9")

    assert ordering_key(new_envelope(usage)) == "s-9"


def test_a_dead_letter_is_keyed_by_the_original_records_key() -> None:
    assert ordering_key(new_envelope(DEAD_LETTER)) == DEAD_LETTER.original_key


@pytest.mark.parametrize(
    "payload",
    [
        DEAD_LETTER.model_copy(update={"original_key": None}),
        LlmUsage(model="m", prompt_tokens=1, completion_tokens=1, latency_ms=1),
        MemoryRequested(topic="Gravity", conversation_history=[]),
    ],
    ids=["dead-letter-without-key", "usage-without-user-or-session", "memory-without-session-or-user"],
)
def test_an_event_with_no_ordering_field_is_keyed_by_its_own_id(payload: BaseModel) -> None:
    envelope = new_envelope(payload)

    assert ordering_key(envelope) == envelope.id


def test_session_events_of_one_session_share_a_key() -> None:
    keys = {
        ordering_key(new_envelope(CHAT_TURN_EN)),
        ordering_key(new_envelope(ConversationEnded(session_id=CHAT_TURN_EN.session_id, topic="x"))),
        ordering_key(
            new_envelope(
                MemoryRequested(topic="x", conversation_history=[], session_id="sess-2024-05-01.alice")
            )
        ),
    }

    assert keys == {CHAT_TURN_EN.session_id}


def test_the_key_survives_a_round_trip() -> None:
    for payload in (CHAT_TURN_EN, TASK_STATUS, LLM_USAGE, DEAD_LETTER):
        envelope = new_envelope(payload)
        assert ordering_key(decode(encode(envelope))) == ordering_key(envelope)


# --- replay mark ----------------------------------------------------------------


def test_a_replayed_copy_keeps_the_event_id_and_key_and_round_trips_its_mark() -> None:
    original = new_envelope(CHAT_TURN_EN)
    copy = replayed(original, Replay("0190b5c2-7f3a-7c1e-9a2b-000000000001", ("transcript",)))

    decoded = decode(encode(copy))

    assert decoded == copy
    assert (decoded.id, ordering_key(decoded)) == (original.id, ordering_key(original))
    assert decoded.replay_id == "0190b5c2-7f3a-7c1e-9a2b-000000000001"
    assert orjson.loads(encode(copy))["replay"] == {
        "id": "0190b5c2-7f3a-7c1e-9a2b-000000000001",
        "tasks": ["transcript"],
    }


def test_a_record_without_a_replay_mark_reads_as_a_first_run() -> None:
    decoded = decode(orjson.dumps(valid_record()))
    assert decoded.replay is None and decoded.replay_id is None
    assert "replay" not in orjson.loads(encode(decoded))


def test_a_replay_without_tasks_reruns_every_task_type_and_one_with_tasks_only_those() -> None:
    assert Replay("r").runs("anything")
    assert Replay("r", ("a", "b")).runs("b")
    assert not Replay("r", ("a", "b")).runs("c")


@pytest.mark.parametrize(
    ("mark", "mentions"),
    [
        ("r1", "'replay' must be an object"),
        ({}, "'replay.id'"),
        ({"id": ""}, "'replay.id'"),
        ({"id": "r1", "tasks": []}, "'replay.tasks'"),
        ({"id": "r1", "tasks": [1]}, "'replay.tasks'"),
        ({"id": "r1", "by": "me"}, "unknown field(s): by"),
    ],
)
def test_a_malformed_replay_mark_is_bad_field(mark: Any, mentions: str) -> None:
    error = decode_error(valid_record(replay=mark))
    assert error.reason == "bad_field"
    assert mentions in error.message

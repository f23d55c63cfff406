"""The version rule: a new ``v`` of an event type may only add optional fields.

Each test builds its own ``EventRegistry`` so the global ``REGISTRY`` stays untouched.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict

from foundation.errors import DecodeError, FeynmanError
from schemas.envelope import decode, encode, new_envelope
from schemas.registry import REGISTRY, EventRegistry, VersionRuleError


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoteV1(Strict):
    session_id: str
    text: str
    mood: str | None = None


class NoteV2(Strict):
    """v1 plus one optional field."""

    session_id: str
    text: str
    mood: str | None = None
    language: str = "en"


def record(v: int, data: dict[str, Any], type_name: str = "note.taken") -> bytes:
    return orjson.dumps(
        {"id": f"evt-{v}", "type": type_name, "v": v, "ts": "2024-05-01T12:00:00Z", "data": data}
    )


@pytest.fixture
def registry() -> EventRegistry:
    """A registry with note.taken v1 and v2 (v2 adds the optional ``language``)."""
    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)
    fresh.register("note.taken", 2)(NoteV2)
    return fresh


def test_a_version_that_adds_an_optional_field_is_registered_as_the_newest(
    registry: EventRegistry,
) -> None:
    assert registry.latest("note.taken") == (2, NoteV2)
    assert registry.versions("note.taken") == {1: NoteV1, 2: NoteV2}
    assert registry.model_for("note.taken") is NoteV2


def test_a_v1_record_is_read_with_the_newest_model_and_the_default_filled_in(
    registry: EventRegistry,
) -> None:
    envelope = decode(record(1, {"session_id": "s-1", "text": "gravity pulls"}), registry)

    assert envelope.v == 1
    assert isinstance(envelope.data, NoteV2)
    assert envelope.data.language == "en"
    assert envelope.data.text == "gravity pulls"


def test_a_v2_record_keeps_its_new_field(registry: EventRegistry) -> None:
    envelope = decode(record(2, {"session_id": "s-1", "text": "引力", "language": "zh"}), registry)

    assert envelope.v == 2
    assert envelope.data.language == "zh"


def test_a_record_above_the_newest_version_is_unknown_version(registry: EventRegistry) -> None:
    with pytest.raises(DecodeError) as info:
        decode(record(3, {"session_id": "s-1", "text": "x"}), registry)

    assert info.value.reason == "unknown_version"
    assert "1..2" in info.value.message


def test_a_fresh_registry_does_not_see_the_global_event_types(registry: EventRegistry) -> None:
    assert registry.types() == ["note.taken"]
    with pytest.raises(DecodeError) as info:
        decode(record(1, {}, type_name="chat.turn"), registry)
    assert info.value.reason == "unknown_type"


def test_new_envelopes_take_the_newest_version_of_their_type(registry: EventRegistry) -> None:
    envelope = new_envelope(NoteV2(session_id="s-1", text="x"), registry=registry)

    assert (envelope.type, envelope.v) == ("note.taken", 2)
    assert decode(encode(envelope), registry) == envelope


def test_an_older_model_cannot_start_a_new_envelope(registry: EventRegistry) -> None:
    with pytest.raises(DecodeError):
        new_envelope(NoteV1(session_id="s-1", text="x"), registry=registry)


def test_a_version_after_a_gap_is_rejected() -> None:
    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)

    with pytest.raises(VersionRuleError, match="v3 must follow v1"):
        fresh.register("note.taken", 3)(NoteV2)

    assert fresh.latest("note.taken") == (1, NoteV1)


def test_a_version_declared_twice_is_rejected(registry: EventRegistry) -> None:
    with pytest.raises(VersionRuleError, match="twice"):
        registry.register("note.taken", 2)(NoteV2)


def test_the_first_version_of_a_type_must_be_1() -> None:
    # Otherwise decode would accept v=1..4 records of a type whose first model is v5.
    fresh = EventRegistry()

    with pytest.raises(VersionRuleError):
        fresh.register("note.taken", 5)(NoteV1)


def test_a_version_that_adds_a_required_field_is_rejected() -> None:
    class NoteV2Required(Strict):
        session_id: str
        text: str
        mood: str | None = None
        author: str

    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)

    with pytest.raises(VersionRuleError, match="author") as info:
        fresh.register("note.taken", 2)(NoteV2Required)

    assert isinstance(info.value, FeynmanError)
    assert fresh.latest("note.taken") == (1, NoteV1)


def test_a_version_that_removes_a_field_is_rejected() -> None:
    class NoteV2Smaller(Strict):
        session_id: str
        text: str

    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)

    with pytest.raises(VersionRuleError, match="mood"):
        fresh.register("note.taken", 2)(NoteV2Smaller)

    assert fresh.latest("note.taken") == (1, NoteV1)


def test_a_version_that_makes_an_optional_field_required_is_rejected() -> None:
    # A v1 record without "mood" would no longer decode with the v2 model.
    class NoteV2MoodRequired(Strict):
        session_id: str
        text: str
        mood: str

    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)

    with pytest.raises(VersionRuleError, match="mood"):
        fresh.register("note.taken", 2)(NoteV2MoodRequired)


def test_a_version_that_changes_a_fields_type_is_rejected() -> None:
    # The rule allows adding optional fields only; a v1 record's "text" would not read as an int.
    class NoteV2TextIsInt(Strict):
        session_id: str
        text: int
        mood: str | None = None

    fresh = EventRegistry()
    fresh.register("note.taken", 1)(NoteV1)

    with pytest.raises(VersionRuleError, match="text"):
        fresh.register("note.taken", 2)(NoteV2TextIsInt)


# --- the global registry -----------------------------------------------------


def _breaks_version_rule(older: type[BaseModel], newer: type[BaseModel]) -> list[str]:
    """What about ``newer`` would stop it from reading every record of ``older``."""
    problems = []
    old, new = older.model_fields, newer.model_fields
    for name, info in old.items():
        if name not in new:
            problems.append(f"removes {name}")
        elif new[name].annotation != info.annotation:
            problems.append(f"changes the type of {name}")
        elif new[name].is_required() and not info.is_required():
            problems.append(f"makes {name} required")
    problems += [
        f"adds required {name}" for name, info in new.items() if name not in old and info.is_required()
    ]
    return problems


@pytest.mark.parametrize("type_name", REGISTRY.types())
def test_every_registered_type_numbers_its_versions_from_1_without_gaps(type_name: str) -> None:
    versions = REGISTRY.versions(type_name)

    assert sorted(versions) == list(range(1, len(versions) + 1))


@pytest.mark.parametrize("type_name", REGISTRY.types())
def test_every_registered_version_only_adds_optional_fields_to_the_one_before(type_name: str) -> None:
    versions = REGISTRY.versions(type_name)

    for v in sorted(versions)[1:]:
        assert _breaks_version_rule(versions[v - 1], versions[v]) == [], f"{type_name} v{v}"


def test_the_rule_checker_used_above_does_see_a_breaking_change() -> None:
    class Broken(Strict):
        session_id: int
        text: str
        language: str

    assert _breaks_version_rule(NoteV1, NoteV2) == []
    assert _breaks_version_rule(NoteV1, Broken) == [
        "changes the type of session_id",
        "removes mood",
        "adds required language",
    ]

"""The JSON Schema files in docs/schemas: current, and usable by a producer in any language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from feynman.schema_export import render, stale
from schemas.envelope import encode, new_envelope
from schemas.registry import REGISTRY
from tests.schemas.samples import CHAT_TURN_EN, SAMPLES

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "docs" / "schemas"


def validator_for(type_name: str, v: int = 1) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{type_name}.v{v}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def envelope_json(payload: BaseModel) -> dict[str, Any]:
    return orjson.loads(encode(new_envelope(payload, trace_id="trace-1", source="tests")))


def test_the_committed_schema_files_are_current() -> None:
    assert stale(SCHEMA_DIR) == [], "run `feynman schemas export` and commit docs/schemas"


def test_there_is_one_schema_file_per_registered_type_and_version() -> None:
    expected = {
        f"{type_name}.v{v}.schema.json"
        for type_name in REGISTRY.types()
        for v in REGISTRY.versions(type_name)
    }

    assert set(render()) == expected
    assert {p.name for p in SCHEMA_DIR.glob("*.schema.json")} == expected


def test_stale_reports_a_changed_a_missing_and_an_orphan_file(tmp_path: Path) -> None:
    for name, content in render().items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "chat.turn.v1.schema.json").write_bytes(b"{}\n")
    (tmp_path / "llm.usage.v1.schema.json").unlink()
    (tmp_path / "chat.message.v1.schema.json").write_bytes(b"{}\n")

    assert stale(tmp_path) == [
        "chat.message.v1.schema.json",
        "chat.turn.v1.schema.json",
        "llm.usage.v1.schema.json",
    ]


@pytest.mark.parametrize("type_name", REGISTRY.types())
def test_every_exported_schema_is_a_valid_draft_2020_12_schema(type_name: str) -> None:
    validator_for(type_name)


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=SAMPLES.keys())
def test_a_valid_envelope_of_each_type_validates_against_its_schema(payload: BaseModel) -> None:
    envelope = envelope_json(payload)
    validator = validator_for(envelope["type"], envelope["v"])

    errors = [e.message for e in validator.iter_errors(envelope)]

    assert errors == []


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=SAMPLES.keys())
def test_an_envelope_without_data_does_not_validate(payload: BaseModel) -> None:
    envelope = envelope_json(payload)
    validator = validator_for(envelope["type"], envelope["v"])
    del envelope["data"]

    assert not validator.is_valid(envelope)


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=SAMPLES.keys())
def test_an_envelope_with_another_type_does_not_validate(payload: BaseModel) -> None:
    envelope = envelope_json(payload)
    validator = validator_for(envelope["type"], envelope["v"])
    envelope["type"] = "chat.message"

    assert not validator.is_valid(envelope)


def test_the_schema_rejects_what_decode_rejects_in_the_payload() -> None:
    validator = validator_for("chat.turn")
    too_long = envelope_json(CHAT_TURN_EN)
    too_long["data"]["user_input"] = "x" * 20_001
    extra = envelope_json(CHAT_TURN_EN)
    extra["data"]["mood"] = "curious"
    bad_session = envelope_json(CHAT_TURN_EN)
    bad_session["data"]["session_id"] = "has spaces"

    for envelope in (too_long, extra, bad_session):
        assert not validator.is_valid(envelope)


def test_the_schema_rejects_an_unknown_envelope_field_and_a_wrong_version() -> None:
    validator = validator_for("chat.turn")
    extra = envelope_json(CHAT_TURN_EN) | {"priority": "high"}
    wrong_v = envelope_json(CHAT_TURN_EN) | {"v": 2}

    assert not validator.is_valid(extra)
    assert not validator.is_valid(wrong_v)

"""JSON Schema files for every event type and version, exported into docs/.

One file per ``(type, v)`` describing the whole envelope with that payload,
so a producer in any language can validate what it sends. A test compares the
files with a fresh export, so they never go stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from schemas.registry import REGISTRY, EventRegistry

DEFAULT_DIR = Path("docs/schemas")


def envelope_schema(type_name: str, v: int, payload_schema: dict[str, Any]) -> dict[str, Any]:
    # Pydantic's "#/$defs/..." references resolve against the document root,
    # so its definitions move there when the payload nests under "data".
    payload_schema = dict(payload_schema)
    defs = payload_schema.pop("$defs", None)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{type_name}.v{v}.schema.json",
        "title": f"{type_name} v{v}",
        "description": (payload_schema.get("description") or "").strip(),
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "type", "v", "ts", "data"],
        "properties": {
            "id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "Unique, time-ordered (UUIDv7)",
            },
            "type": {"const": type_name},
            "v": {"const": v},
            "ts": {"type": "string", "format": "date-time", "description": "Event time, RFC 3339 UTC"},
            "data": payload_schema,
            "trace_id": {"type": "string"},
            "source": {"type": "string"},
            "replay": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "description": "Set by `feynman replay`: the replay run (UUIDv7), task types it reruns",
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 64},
                    "tasks": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 32,
                        "items": {"type": "string", "minLength": 1, "maxLength": 64},
                    },
                },
            },
        },
    }
    if defs:
        schema["$defs"] = defs
    return schema


def render(registry: EventRegistry = REGISTRY) -> dict[str, bytes]:
    """File name → file content for every registered type and version."""
    files = {}
    for type_name in registry.types():
        for v, model in sorted(registry.versions(type_name).items()):
            schema = envelope_schema(type_name, v, model.model_json_schema())
            files[f"{type_name}.v{v}.schema.json"] = (
                orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
            )
    return files


def export(out_dir: Path = DEFAULT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render().items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written


def stale(out_dir: Path = DEFAULT_DIR) -> list[str]:
    """Files that are missing, different or no longer produced."""
    files = render()
    problems = [
        name
        for name, content in files.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_bytes() != content
    ]
    if out_dir.is_dir():
        problems += [p.name for p in out_dir.glob("*.schema.json") if p.name not in files]
    return sorted(problems)

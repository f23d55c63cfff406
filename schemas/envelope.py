"""The envelope every record on an event topic carries (docs/architecture.md, contract 2).

``{"id", "type", "v", "ts", "data", "trace_id"?, "source"?, "replay"?}`` as
UTF-8 JSON, encoded with orjson. ``replay`` (``{"id", "tasks"?}``) marks a
copy sent by ``feynman replay``: the worker runs it as a new generation of the
event's tasks (docs/replay.md); records without it read exactly as before.
:func:`decode` either returns a typed :class:`Envelope` or raises
:class:`~foundation.errors.DecodeError` saying exactly what is wrong; that error
is what a dead letter records as its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
import uuid6
from pydantic import BaseModel, ValidationError

from foundation.errors import DecodeError
from schemas.registry import REGISTRY, EventRegistry

P = TypeVar("P", bound=BaseModel)

_REQUIRED = ("id", "type", "v", "ts", "data")
_OPTIONAL = ("trace_id", "source")
_REPLAY = "replay"
MAX_ID_LEN = 64
MAX_REPLAY_TASKS = 32
# RFC 3339 section 5.6: full date, "T" (or space/t), full time with seconds, zone.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class Replay:
    """The mark a replayed copy of an event carries.

    ``id`` names one replay run (a UUIDv7, so later replays sort later: the
    status fold orders generations by it). ``tasks`` limits the rerun to those
    task types; ``None`` reruns every task the event triggers.
    """

    id: str
    tasks: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.tasks is not None:
            out["tasks"] = list(self.tasks)
        return out

    def runs(self, task_type: str) -> bool:
        """Whether this replay reruns ``task_type``."""
        return self.tasks is None or task_type in self.tasks


@dataclass(frozen=True, slots=True)
class Envelope(Generic[P]):
    id: str
    type: str
    v: int
    ts: datetime
    data: P
    trace_id: str | None = None
    source: str | None = None
    replay: Replay | None = None

    @property
    def replay_id(self) -> str | None:
        return self.replay.id if self.replay is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "v": self.v,
            "ts": rfc3339(self.ts),
            "data": self.data.model_dump(mode="json", exclude_none=True),
        }
        if self.trace_id is not None:
            out["trace_id"] = self.trace_id
        if self.source is not None:
            out["source"] = self.source
        if self.replay is not None:
            out[_REPLAY] = self.replay.to_dict()
        return out


def rfc3339(ts: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, microseconds kept."""
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_event_id() -> str:
    """A time-ordered unique id (UUIDv7), so ids sort like the events they name."""
    return str(uuid6.uuid7())


def new_envelope(
    data: P,
    *,
    trace_id: str | None = None,
    source: str | None = None,
    event_id: str | None = None,
    registry: EventRegistry = REGISTRY,
) -> Envelope[P]:
    """Wrap a payload in a fresh envelope of its registered type and newest version.

    ``event_id`` is for callers that must reproduce an id (an idempotent retry);
    everyone else gets a new UUIDv7.
    """
    type_name, v = _type_of(type(data), registry)
    return Envelope(
        id=event_id or new_event_id(),
        type=type_name,
        v=v,
        ts=datetime.now(UTC),
        data=data,
        trace_id=trace_id,
        source=source,
    )


def replayed(envelope: Envelope[P], mark: Replay) -> Envelope[P]:
    """The same event (same id, so the same task ids) marked as a copy sent by replay ``mark``."""
    return replace(envelope, replay=mark)


def ordering_key(envelope: Envelope[Any]) -> str:
    """The Kafka key of an event: whatever its state is ordered by.

    Conversation events order by session, status events by task, usage by user
    (each payload class names its ``ordering_fields``); an event with none of
    these is its own key.
    """
    data = envelope.data
    for name in getattr(data, "ordering_fields", ("session_id", "user_id")):
        value = getattr(data, name, None)
        if value:
            return str(value)
    return envelope.id


def encode(envelope: Envelope[Any]) -> bytes:
    return orjson.dumps(envelope.to_dict())


def decode(raw: bytes | str, registry: EventRegistry = REGISTRY) -> Envelope[Any]:
    """Parse and validate one record; raise :class:`DecodeError` on any defect."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("not_json", f"not valid UTF-8 JSON: {exc}") from None
    return decode_obj(obj, registry)


def decode_obj(obj: Any, registry: EventRegistry = REGISTRY) -> Envelope[Any]:
    """Validate an already parsed JSON value as an envelope."""
    if not isinstance(obj, dict):
        raise DecodeError("not_object", f"envelope must be a JSON object, got {_json_kind(obj)}")
    missing = [f for f in _REQUIRED if f not in obj]
    if missing:
        raise DecodeError("missing_field", f"envelope lacks field(s): {', '.join(missing)}")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL) - {_REPLAY})
    if unknown:
        raise DecodeError("unknown_field", f"envelope has unknown field(s): {', '.join(unknown)}")
    event_id, type_name, v, ts = obj["id"], obj["type"], obj["v"], obj["ts"]
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID_LEN:
        raise DecodeError("bad_field", f"'id' must be a non-empty string of at most {MAX_ID_LEN} characters")
    if not isinstance(type_name, str) or not type_name:
        raise DecodeError("bad_field", "'type' must be a non-empty string")
    if isinstance(v, bool) or not isinstance(v, int):
        raise DecodeError("bad_field", f"'v' must be an integer, got {_json_kind(v)}")
    for opt in _OPTIONAL:
        if obj.get(opt) is not None and not isinstance(obj[opt], str):
            raise DecodeError("bad_field", f"'{opt}' must be a string")
    latest = registry.latest(type_name)
    if latest is None:
        known = ", ".join(registry.types())
        raise DecodeError("unknown_type", f"unknown event type {type_name!r} (known: {known})")
    newest_v, model = latest
    if not 1 <= v <= newest_v:
        raise DecodeError("unknown_version", f"{type_name} has no version {v} (known: 1..{newest_v})")
    parsed_ts = _parse_ts(ts)
    try:
        # The newest model reads every older version (registry's version rule).
        data = model.model_validate(obj["data"])
    except ValidationError as exc:
        raise DecodeError("invalid_payload", f"{type_name} v{v} data: {_explain(exc)}") from None
    return Envelope(
        id=event_id,
        type=type_name,
        v=v,
        ts=parsed_ts,
        data=data,
        trace_id=obj.get("trace_id"),
        source=obj.get("source"),
        replay=_parse_replay(obj.get(_REPLAY)),
    )


def _parse_replay(value: Any) -> Replay | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DecodeError("bad_field", f"'replay' must be an object, got {_json_kind(value)}")
    unknown = sorted(set(value) - {"id", "tasks"})
    if unknown:
        raise DecodeError("bad_field", f"'replay' has unknown field(s): {', '.join(unknown)}")
    replay_id = value.get("id")
    if not isinstance(replay_id, str) or not 0 < len(replay_id) <= MAX_ID_LEN:
        raise DecodeError(
            "bad_field", f"'replay.id' must be a non-empty string of at most {MAX_ID_LEN} chars"
        )
    tasks = value.get("tasks")
    if tasks is None:
        return Replay(replay_id)
    if (
        not isinstance(tasks, list)
        or not 0 < len(tasks) <= MAX_REPLAY_TASKS
        or not all(isinstance(t, str) and 0 < len(t) <= MAX_ID_LEN for t in tasks)
    ):
        raise DecodeError("bad_field", f"'replay.tasks' must list 1..{MAX_REPLAY_TASKS} task type names")
    return Replay(replay_id, tuple(tasks))


def _parse_ts(ts: Any) -> datetime:
    if not isinstance(ts, str):
        raise DecodeError("bad_field", f"'ts' must be an RFC 3339 string, got {_json_kind(ts)}")
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None:
        raise DecodeError("bad_field", "'ts' must carry a time zone (use Z for UTC)")
    if parsed is None or not _RFC3339.match(ts):
        raise DecodeError("bad_field", f"'ts' is not an RFC 3339 timestamp: {ts[:40]!r}")
    return parsed.astimezone(UTC)


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _type_of(cls: type[BaseModel], registry: EventRegistry) -> tuple[str, int]:
    for type_name in registry.types():
        for v, model in registry.versions(type_name).items():
            if model is cls and v == registry.latest(type_name)[0]:  # type: ignore[index]
                return type_name, v
    raise DecodeError("unknown_type", f"{cls.__name__} is not the newest version of any event type")

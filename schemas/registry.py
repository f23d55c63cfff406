"""Which event types and versions exist, and the version rule they obey.

The rule: a change to a payload that adds an optional field makes a new ``v``;
any other change makes a new type. Decoders accept every older ``v`` of a type
and read it as the newest one, which is safe exactly because newer versions
only add optional fields (checked by :meth:`EventRegistry.register`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from foundation.errors import FeynmanError

M = TypeVar("M", bound=type[BaseModel])


class VersionRuleError(FeynmanError):
    """A new version of an event type breaks the version rule."""


@dataclass
class EventRegistry:
    """Maps ``(type, v)`` to the payload model; one instance per process."""

    _versions: dict[str, dict[int, type[BaseModel]]] = field(default_factory=dict)

    def register(self, type_name: str, v: int) -> Callable[[M], M]:
        """Class decorator: declare ``cls`` as payload of ``type_name`` version ``v``."""

        def decorate(cls: M) -> M:
            versions = self._versions.setdefault(type_name, {})
            if v in versions:
                raise VersionRuleError(f"{type_name} v{v} is declared twice")
            if not versions and v != 1:
                raise VersionRuleError(f"{type_name}: the first version must be 1, not {v}")
            if versions and v != max(versions) + 1:
                raise VersionRuleError(f"{type_name} v{v} must follow v{max(versions)}")
            if versions:
                _check_only_adds_optional_fields(type_name, versions[max(versions)], cls)
            versions[v] = cls
            return cls

        return decorate

    def types(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, type_name: str) -> dict[int, type[BaseModel]]:
        return dict(self._versions.get(type_name, {}))

    def latest(self, type_name: str) -> tuple[int, type[BaseModel]] | None:
        versions = self._versions.get(type_name)
        if not versions:
            return None
        v = max(versions)
        return v, versions[v]

    def model_for(self, type_name: str) -> type[BaseModel] | None:
        """The newest payload model of ``type_name``, which reads every older ``v``."""
        latest = self.latest(type_name)
        return latest[1] if latest else None


def _check_only_adds_optional_fields(type_name: str, older: type[BaseModel], newer: type[BaseModel]) -> None:
    old_fields = older.model_fields
    new_fields = newer.model_fields
    for name, old in old_fields.items():
        new = new_fields.get(name)
        if new is None:
            raise VersionRuleError(f"{type_name}: a new version may not remove field {name!r}")
        if new.annotation != old.annotation or new.metadata != old.metadata:
            raise VersionRuleError(f"{type_name}: a new version may not change the type of {name!r}")
        if new.is_required() and not old.is_required():
            raise VersionRuleError(f"{type_name}: a new version may not make {name!r} required")
    for name, info in new_fields.items():
        if name not in old_fields and info.is_required():
            raise VersionRuleError(f"{type_name}: new field {name!r} must be optional (have a default)")


REGISTRY = EventRegistry()

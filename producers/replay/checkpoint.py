"""The replay's checkpoint file: what was selected and how far it got.

Written after every batch Kafka acknowledged, never before, so a resumed
replay starts at the first record not known to be sent. The offset ranges are
fixed when the replay starts: records arriving later are not part of it, and
a resumed run ends where the first would have. It keeps the replay id too:
should a crash fall between an ack and the checkpoint, the few records sent
again carry the same id, and the worker skips work that replay already did.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.errors import ReplayError
from producers.replay.selection import Selection


@dataclass
class Checkpoint:
    replay_id: str
    selection: Selection
    # Source partition → [first offset, end offset) fixed at the start.
    ranges: dict[int, tuple[int, int]]
    # Source partition → the next offset to read (everything before it is done).
    next: dict[int, int] = field(default_factory=dict)
    sent: int = 0
    path: Path | None = None

    def position(self, partition: int) -> int:
        return self.next.get(partition, self.ranges[partition][0])

    def remaining(self) -> dict[int, tuple[int, int]]:
        """Partition → offsets still to read, for partitions not finished."""
        out = {}
        for partition, (_, end) in self.ranges.items():
            at = self.position(partition)
            if at < end:
                out[partition] = (at, end)
        return out

    @property
    def finished(self) -> bool:
        return not self.remaining()

    def total(self) -> int:
        return sum(end - first for first, end in self.ranges.values())

    def done(self) -> int:
        return sum(self.position(p) - first for p, (first, _) in self.ranges.items())

    def to_dict(self) -> dict[str, Any]:
        return {
            "replay_id": self.replay_id,
            "selection": self.selection.to_dict(),
            "ranges": {str(p): list(r) for p, r in sorted(self.ranges.items())},
            "next": {str(p): o for p, o in sorted(self.next.items())},
            "sent": self.sent,
            "finished": self.finished,
        }

    def save(self) -> None:
        """Replace the file atomically (write, fsync, rename): a crash leaves the old or the new one."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as out:
            json.dump(self.to_dict(), out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)


def checkpoint_path(directory: Path, replay_id: str) -> Path:
    return directory / f"{replay_id}.json"


def load(ref: str, directory: Path) -> Checkpoint:
    """The checkpoint a ``--resume`` names: a file path, or a replay id in ``directory``."""
    path = Path(ref)
    if not path.is_file():
        path = checkpoint_path(directory, ref)
    if not path.is_file():
        raise ReplayError(f"no checkpoint {ref!r} (neither a file nor a replay id in {directory})")
    try:
        obj = json.loads(path.read_text())
        return Checkpoint(
            replay_id=obj["replay_id"],
            selection=Selection.from_dict(obj["selection"]),
            ranges={int(p): (r[0], r[1]) for p, r in obj["ranges"].items()},
            next={int(p): o for p, o in obj["next"].items()},
            sent=obj["sent"],
            path=path,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ReplayError(f"checkpoint {path} is unreadable: {exc!r}") from exc

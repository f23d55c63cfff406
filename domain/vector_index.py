"""Where learner explanations' vectors are kept and searched: a port and an embedded store.

The store is exact cosine search over vectors kept in SQLite (numpy does the arithmetic).
Searches are per learner (``user_id``), and one learner has hundreds to a few thousand
vectors, where an exact scan takes well under a millisecond and never misses a neighbour.
Approximate indexes were weighed and set aside (docs/analysis.md): usearch's Python API
searches the whole graph with no filter, so a learner's neighbours could be crowded out
by other learners'; sqlite-vec needs ``enable_load_extension``, which this Python's
``sqlite3`` is built without; hnswlib ships no wheel. SQLite gives persistence, atomic
writes and deletes by id for free, and the index can always be rebuilt from the topics
(:meth:`SqliteVectorIndex.clear`, then :meth:`~SqliteVectorIndex.add` again).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from foundation.errors import ConfigError

FILE_NAME = "vectors.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    vector BLOB NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_by_user ON vectors (user_id);
"""


class Match(NamedTuple):
    """One search hit: the stored id, its cosine similarity to the query, and its metadata."""

    id: str
    score: float
    metadata: dict[str, Any]


@runtime_checkable
class VectorIndex(Protocol):
    """Vectors by id, each with JSON metadata; ``metadata["user_id"]`` is what searches filter on."""

    def add(self, ids: Sequence[str], vectors: ArrayLike, metadata: Sequence[Mapping[str, Any]]) -> None:
        """Store (or replace: ids are idempotency keys) one vector and metadata per id."""
        ...

    def search(self, vector: ArrayLike, k: int = 10, *, user_id: str | None = None) -> list[Match]:
        """The ``k`` most similar vectors, best first, only this learner's when ``user_id`` is given."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these ids; how many were there."""
        ...

    def count(self, *, user_id: str | None = None) -> int:
        """How many vectors are stored (for one learner, if given)."""
        ...

    def clear(self) -> None:
        """Remove everything, before a rebuild from the topics."""
        ...


class SqliteVectorIndex:
    """Exact cosine search over vectors persisted in ``<directory>/vectors.sqlite3``."""

    def __init__(self, directory: str | Path, dim: int) -> None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        # One connection guarded by a lock: the runtime may call from an executor thread.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path / FILE_NAME, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('dim', ?)", (str(dim),))
            stored = int(self._db.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
        if stored != dim:
            self._db.close()
            raise ConfigError(f"vector index at {path} holds {stored}-dimensional vectors, not {dim}")

    def add(self, ids: Sequence[str], vectors: ArrayLike, metadata: Sequence[Mapping[str, Any]]) -> None:
        """Store (or replace) vectors, normalised so that a dot product is the cosine."""
        matrix = self._matrix(vectors)
        if not len(ids) == len(matrix) == len(metadata):
            raise ValueError(f"{len(ids)} ids, {len(matrix)} vectors and {len(metadata)} metadata")
        rows = [
            (id_, meta.get("user_id"), row.tobytes(), json.dumps(dict(meta), ensure_ascii=False))
            for id_, row, meta in zip(ids, _normalised(matrix), metadata, strict=True)
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def search(self, vector: ArrayLike, k: int = 10, *, user_id: str | None = None) -> list[Match]:
        """Exact top-``k`` by cosine, ties broken by id so results never depend on storage order."""
        query = _normalised(self._matrix(vector))[0]
        sql, args = "SELECT id, vector, metadata FROM vectors", ()
        if user_id is not None:
            sql, args = sql + " WHERE user_id = ?", (user_id,)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        if not rows or k <= 0:
            return []
        stored = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), self.dim)
        scores = stored @ query
        best = np.argpartition(-scores, k - 1)[:k] if len(rows) > k else np.arange(len(rows))
        ranked = sorted(best, key=lambda i: (-float(scores[i]), rows[i][0]))
        return [Match(rows[i][0], float(scores[i]), json.loads(rows[i][2])) for i in ranked]

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these ids; how many existed."""
        with self._lock:
            self._db.execute("BEGIN")
            removed = sum(self._db.execute("DELETE FROM vectors WHERE id = ?", (i,)).rowcount for i in ids)
            self._db.execute("COMMIT")
        return removed

    def count(self, *, user_id: str | None = None) -> int:
        """How many vectors are stored (for one learner, if given)."""
        with self._lock:
            if user_id is None:
                return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])
            sql = "SELECT count(*) FROM vectors WHERE user_id = ?"
            return int(self._db.execute(sql, (user_id,)).fetchone()[0])

    def clear(self) -> None:
        """Remove every vector (the dimension stays)."""
        with self._lock:
            self._db.execute("DELETE FROM vectors")

    def close(self) -> None:
        """Close the database; everything added is already on disk."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteVectorIndex:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _matrix(self, vectors: ArrayLike) -> np.ndarray[Any, np.dtype[np.float32]]:
        matrix = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise ValueError(f"vectors must have {self.dim} dimensions, got shape {matrix.shape}")
        return matrix


def _normalised(matrix: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0))

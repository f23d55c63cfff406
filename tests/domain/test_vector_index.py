"""The embedded vector index: add, search, filter by learner, delete, persist, rebuild, recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from domain.embedding import HashingEmbedder
from domain.vector_index import SqliteVectorIndex, VectorIndex
from foundation.errors import ConfigError
from tests.domain.corpus import load

ITEMS = load()
EMBEDDER = HashingEmbedder()


def _fill(index: SqliteVectorIndex) -> None:
    vectors = EMBEDDER.embed([item.text for item in ITEMS])
    meta = [{"user_id": "ana" if item.language == "en" else "bo", "topic": item.topic} for item in ITEMS]
    index.add([item.id for item in ITEMS], vectors, meta)


def test_a_search_returns_the_nearest_explanation_with_its_metadata(tmp_path: Path) -> None:
    with SqliteVectorIndex(tmp_path, EMBEDDER.dim) as index:
        assert isinstance(index, VectorIndex)
        _fill(index)
        hits = index.search(EMBEDDER.embed(["Why does the Moon keep going around the Earth?"])[0], k=3)
    assert hits[0].id == "en-gravity-good"
    assert hits[0].metadata == {"user_id": "ana", "topic": "gravity"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert 0 < hits[0].score <= 1.0001


def test_a_search_for_one_learner_sees_only_that_learners_vectors(tmp_path: Path) -> None:
    with SqliteVectorIndex(tmp_path, EMBEDDER.dim) as index:
        _fill(index)
        query = EMBEDDER.embed(["Why does the Moon keep going around the Earth?"])[0]
        hits = index.search(query, k=50, user_id="bo")
        assert len(hits) == index.count(user_id="bo") == 12
        assert {h.metadata["user_id"] for h in hits} == {"bo"}
        assert index.search(query, k=5, user_id="nobody") == []


def test_the_index_survives_reopening_and_re_adding_an_id_replaces_it(tmp_path: Path) -> None:
    with SqliteVectorIndex(tmp_path / "idx", EMBEDDER.dim) as index:
        _fill(index)
        _fill(index)  # a redelivery
        assert index.count() == len(ITEMS)
    with SqliteVectorIndex(tmp_path / "idx", EMBEDDER.dim) as reopened:
        assert reopened.count() == len(ITEMS)
        query = EMBEDDER.embed(["植物怎么用阳光把水和二氧化碳变成糖"])[0]
        assert reopened.search(query, k=1)[0].id == "zh-photosynthesis-good"
    with pytest.raises(ConfigError):
        SqliteVectorIndex(tmp_path / "idx", 128)


def test_deleted_ids_are_gone_and_a_cleared_index_can_be_rebuilt(tmp_path: Path) -> None:
    with SqliteVectorIndex(tmp_path, EMBEDDER.dim) as index:
        _fill(index)
        assert index.delete(["en-gravity-good", "no-such-id"]) == 1
        query = EMBEDDER.embed(["Why does the Moon keep going around the Earth?"])[0]
        assert "en-gravity-good" not in {h.id for h in index.search(query, k=len(ITEMS))}
        index.clear()
        assert index.count() == 0
        _fill(index)
        assert index.search(query, k=1)[0].id == "en-gravity-good"


def test_bad_shapes_are_refused(tmp_path: Path) -> None:
    with SqliteVectorIndex(tmp_path, 4) as index:
        with pytest.raises(ValueError):
            index.add(["a"], np.ones((1, 3)), [{}])
        with pytest.raises(ValueError):
            index.add(["a", "b"], np.ones((1, 4)), [{}])


def test_search_results_equal_brute_force_cosine_on_random_vectors(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(2000, 32)).astype(np.float32)
    users = [f"u{i % 3}" for i in range(len(vectors))]
    ids = [f"v{i}" for i in range(len(vectors))]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    with SqliteVectorIndex(tmp_path, 32) as index:
        index.add(ids, vectors, [{"user_id": u} for u in users])
        recalled = []
        for query in rng.normal(size=(20, 32)).astype(np.float32):
            mine = [i for i, u in enumerate(users) if u == "u1"]
            scores = unit[mine] @ (query / np.linalg.norm(query))
            truth = {ids[mine[j]] for j in np.argsort(-scores)[:10]}
            found = {h.id for h in index.search(query, k=10, user_id="u1")}
            recalled.append(len(truth & found) / 10)
    assert np.mean(recalled) == 1.0

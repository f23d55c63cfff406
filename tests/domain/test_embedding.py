"""The offline embedder: deterministic, normalised, and similar texts land close together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from domain.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from foundation.errors import ConfigError
from tests.domain.corpus import CORPUS, load

ITEMS = load()
QUERIES = [
    json.loads(line) for line in (CORPUS.parent / "queries.jsonl").read_text(encoding="utf-8").splitlines()
]
EMBEDDER = HashingEmbedder()
VECTORS = EMBEDDER.embed([item.text for item in ITEMS])


def test_the_hashing_embedder_serves_the_port_with_unit_rows() -> None:
    assert isinstance(EMBEDDER, Embedder)
    assert VECTORS.shape == (len(ITEMS), 384)
    assert VECTORS.dtype == np.float32
    assert np.allclose(np.linalg.norm(VECTORS, axis=1), 1.0, atol=1e-5)
    empty = EMBEDDER.embed(["", "?!"])
    assert not empty.any()


def test_the_same_text_gets_the_same_vector_in_another_process() -> None:
    code = (
        "from domain.embedding import HashingEmbedder;"
        "texts = ['叶绿素吸收阳光', 'Gravity pulls apples down'];"
        "print(HashingEmbedder(64).embed(texts)[:, :8].round(5).tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    here = HashingEmbedder(64).embed(["叶绿素吸收阳光", "Gravity pulls apples down"])[:, :8].round(5).tolist()
    assert json.loads(out) == here


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q["topic"])
def test_a_question_finds_an_explanation_of_its_own_topic_first(query: dict[str, str]) -> None:
    scores = VECTORS @ EMBEDDER.embed([query["text"]])[0]
    order = np.argsort(-scores)
    assert ITEMS[order[0]].topic == query["topic"]
    best_other = max(s for s, item in zip(scores, ITEMS, strict=True) if item.topic != query["topic"])
    assert scores[order[0]] - best_other > 0.1


def test_explanations_of_one_topic_are_closer_than_explanations_of_different_topics() -> None:
    similarity = VECTORS @ VECTORS.T
    same, different = [], []
    for a, first in enumerate(ITEMS):
        for b in range(a + 1, len(ITEMS)):
            second = ITEMS[b]
            if first.language == second.language:
                (same if first.topic == second.topic else different).append(similarity[a, b])
    assert np.mean(same) > 2 * np.mean(different)


def test_a_shared_word_stem_raises_similarity() -> None:
    base, near, far = EMBEDDER.embed(
        ["photosynthetic pigments capture light", "photosynthesis captures light", "interest rates"]
    )
    assert base @ near > base @ far + 0.2


def test_the_sentence_transformer_embedder_never_reaches_for_the_network(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="local directory"):
        SentenceTransformerEmbedder(tmp_path / "missing-model")


def test_the_domain_modules_import_no_kafka_fastapi_or_faust() -> None:
    frameworks = "{'aiokafka', 'kafka', 'fastapi', 'faust', 'mode', 'starlette'}"
    modules = "analysis, progress, consolidation, pricing, cost_buckets, embedding, vector_index"
    code = (
        f"import sys; from domain import {modules};"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {frameworks}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

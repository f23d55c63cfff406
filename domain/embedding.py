"""Text embeddings for the vector store: a port, an offline default, and an optional model.

Vector storage must work on a machine with no network and no model download, and give
the same vector for the same text on every worker (a replay rebuilds the index), so the
default is feature hashing: each content word and each character n-gram is hashed with
BLAKE2b (stable across processes, unlike ``hash()``) to one of ``dim`` signed buckets,
and the vector is L2-normalised, so a dot product is the cosine. It sees shared words,
not meaning: "photosynthesis" and 光合作用 are unrelated to it. Where a multilingual
sentence-transformers model is available on disk, :class:`SentenceTransformerEmbedder`
serves the same port.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from domain.tutor.language import detect_language
from domain.words import content_words
from foundation.errors import ConfigError

DEFAULT_DIM = 384
# Words say what a text is about; character n-grams let "photosynthetic" meet
# "photosynthesis" and 叶绿素 meet 叶绿体, so they count, but for less.
NGRAM_WEIGHT = 0.5
_EN_NGRAMS = (3, 4)
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")

Vectors = NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Texts in, one L2-normalised row of ``dim`` floats per text out."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """A ``(len(texts), dim)`` float32 array; rows of unit length (zero for a text with no words)."""
        ...


class HashingEmbedder:
    """The offline, deterministic default (English and Chinese)."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        if dim < 8:
            raise ConfigError(f"embedding dimension {dim} is too small")
        self._dim = dim

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One hashed, normalised row per text."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in _features(text).items():
                index, sign = _bucket(feature, self._dim)
                out[row, index] += sign * weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)


def _features(text: str) -> dict[str, float]:
    """Weighted features: content words, and n-grams (English words' letters, Chinese characters).

    Counts are damped (1 + log n) so one word repeated ten times does not drown the rest.
    """
    language = detect_language(text)
    words = content_words(text, language)
    grams: list[str] = []
    if language == "zh":
        for run in _HAN_RUN.findall(text):
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    for word in words:
        if word.isascii():
            padded = f"<{word}>"
            grams.extend(padded[i : i + n] for n in _EN_NGRAMS for i in range(len(padded) - n + 1))
    features: dict[str, float] = {}
    for prefix, items, weight in (("w:", words, 1.0), ("g:", grams, NGRAM_WEIGHT)):
        for item, count in Counter(items).items():
            features[prefix + item] = weight * (1 + math.log(count))
    return features


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Bucket and sign of a feature; the sign makes collisions cancel out on average instead of adding up."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
    return digest % dim, 1.0 if digest >> 63 else -1.0


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory, never from the network.

    Optional: the package is not a dependency of the project. Install it and point this
    at a downloaded model (e.g. a multilingual MiniLM) to match meaning across languages.
    """

    def __init__(self, model_path: str | Path, *, device: str = "cpu") -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise ConfigError(f"no sentence-transformers model at {path} (a local directory is required)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError("sentence-transformers is not installed (pip install it)") from exc
        self._model: Any = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._dim = int(self._model.get_sentence_embedding_dimension())

    @property
    def dim(self) -> int:
        """Length of every vector (the model's)."""
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """The model's normalised sentence embeddings."""
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self._dim)

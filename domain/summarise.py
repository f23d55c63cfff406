"""Extractive summaries: the sentences the rest of an explanation keeps coming back to.

TextRank (Mihalcea & Tarau, 2004) on sentences: two sentences are linked by the content
words they share, normalised by their lengths (log |A| + log |B|, as in the paper, plus
one so one-word sentences count), and PageRank over those links ranks the sentences a
learner's other sentences lean on. It needs no model and no training, works on Chinese
through the tutor's segmenter, and always picks the learner's own words. Thirty lines
of arithmetic did not justify a dependency (sumy needs NLTK data; networkx is large).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from domain.tutor.models import Language
from domain.words import content_words

DAMPING = 0.85
_ITERATIONS = 100
_TOLERANCE = 1e-9


def central_sentences(sentences: Sequence[str], k: int, language: Language | None = None) -> list[int]:
    """Indexes of the ``k`` most central sentences, in their original order.

    Ties (and a text whose sentences share nothing) fall back to order of appearance,
    where explanations put their thesis; the result is deterministic.
    """
    scores = textrank([set(content_words(s, language)) for s in sentences])
    chosen = sorted(range(len(sentences)), key=lambda i: (-round(scores[i], 9), i))[:k]
    return sorted(chosen)


def textrank(word_sets: Sequence[set[str]]) -> list[float]:
    """PageRank scores of sentences linked by shared words (they sum to 1)."""
    n = len(word_sets)
    if n == 0:
        return []
    weights = [
        [_similarity(a, b) if i != j else 0.0 for j, b in enumerate(word_sets)]
        for i, a in enumerate(word_sets)
    ]
    out_sums = [sum(row) for row in weights]
    scores = [1.0 / n] * n
    for _ in range(_ITERATIONS):
        # A sentence linked to nothing spreads its score evenly (the usual dangling-node rule).
        dangling = sum(s for s, total in zip(scores, out_sums, strict=True) if total == 0) / n
        new = [
            (1 - DAMPING) / n
            + DAMPING
            * (dangling + sum(scores[j] * weights[j][i] / out_sums[j] for j in range(n) if out_sums[j]))
            for i in range(n)
        ]
        done = sum(abs(a - b) for a, b in zip(new, scores, strict=True)) < _TOLERANCE
        scores = new
        if done:
            break
    return scores


def _similarity(a: set[str], b: set[str]) -> float:
    shared = len(a & b)
    return shared / (math.log(len(a) + 1) + math.log(len(b) + 1)) if shared else 0.0

"""The fixture corpus of learner explanations, ``tests/fixtures/explanations/corpus.jsonl``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parents[1] / "fixtures" / "explanations" / "corpus.jsonl"


@dataclass(frozen=True)
class Explanation:
    """One learner explanation and what the analysis must find in it."""

    id: str
    language: str
    topic: str
    quality: str
    has_example: bool
    has_cause: bool
    hedges: tuple[str, ...]
    unexplained: tuple[str, ...]
    text: str


def load() -> list[Explanation]:
    """Every explanation of the corpus, in file order."""
    items = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        raw["hedges"], raw["unexplained"] = tuple(raw["hedges"]), tuple(raw["unexplained"])
        items.append(Explanation(**raw))
    return items


def by_id(item_id: str) -> Explanation:
    """The explanation with this id."""
    return next(e for e in load() if e.id == item_id)


def pairs() -> list[tuple[Explanation, Explanation]]:
    """(good, poor) explanations of the same topic in the same language."""
    items = load()
    goods = [e for e in items if e.quality == "good"]
    return [
        (g, next(p for p in items if p.quality == "poor" and (p.topic, p.language) == (g.topic, g.language)))
        for g in goods
    ]

"""The fixture corpus: real-looking explanations, one ``.txt`` file each, in ``corpus/``.

Each file starts with ``topic: ...``, a blank line, then the learner's explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Sample:
    """One explanation of the corpus and the topic it explains."""

    name: str
    topic: str
    text: str


def load(name: str) -> Sample:
    """The sample ``corpus/<name>.txt``."""
    head, _, body = (CORPUS / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    return Sample(name=name, topic=head.removeprefix("topic:").strip(), text=body.strip())


def names(language: str) -> list[str]:
    """Every sample of a language (``en`` or ``zh``), by name, sorted."""
    return sorted(p.stem for p in CORPUS.glob(f"{language}_*.txt"))

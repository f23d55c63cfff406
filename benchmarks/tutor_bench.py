"""How fast the Feynman tutor answers: p50/p99/max per language on 2,000-character explanations.

    python -m benchmarks.tutor_bench [--runs 500] [--chars 2000]

The chat reply is synchronous with a < 100 ms budget (docs/architecture.md), so the tutor must stay
well under 10 ms. Inputs are built from the test corpus (tests/domain/tutor/corpus),
cut to exactly ``--chars`` characters, a few different ones per language so that no
single text is measured alone; each call also carries a short-term memory of two earlier
exchanges, as the API would pass. The one-time cost (importing the tutor, loading the
word lists and the Chinese dictionary) is measured first and printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "producers" / "tutor" / "corpus"
TOPICS = {"en": "Photosynthesis", "zh": "光合作用"}
VARIANTS = 5


def _bodies(language: str) -> list[str]:
    files = sorted(CORPUS.glob(f"{language}_*.txt"))
    return [p.read_text(encoding="utf-8").partition("\n\n")[2].strip() for p in files]


def inputs(language: str, chars: int) -> list[str]:
    """``VARIANTS`` different explanations of exactly ``chars`` characters, made of corpus texts."""
    bodies = _bodies(language)
    glue = " " if language == "en" else ""
    texts = []
    for shift in range(VARIANTS):
        order = bodies[shift % len(bodies) :] + bodies[: shift % len(bodies)]
        text = ""
        while len(text) < chars:
            text = glue.join(filter(None, [text, *order]))
        texts.append(text[:chars])
    return texts


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="calls per language (default 500)")
    parser.add_argument("--chars", type=int, default=2000, help="explanation length (default 2000)")
    args = parser.parse_args()

    started = time.perf_counter()
    from domain.tutor import Turn, ask, warm_up

    imported = time.perf_counter()
    warm_up()
    warmed = time.perf_counter()
    print(f"import domain.tutor  {_ms(imported - started)}")
    print(f"warm_up()               {_ms(warmed - imported)}")
    print(f"one-time total          {_ms(warmed - started)}")
    print()
    print(f"{'language':<9}{'runs':>6}{'chars':>7}{'p50':>13}{'p99':>13}{'max':>13}{'mean':>13}")
    for language in ("en", "zh"):
        texts = inputs(language, args.chars)
        memory = [
            Turn("user", texts[1][: args.chars // 2]),
            Turn("assistant", "Why?"),
            Turn("user", texts[2][: args.chars // 2]),
            Turn("assistant", "What is that?"),
        ]
        timings = []
        for run in range(args.runs):
            text = texts[run % len(texts)]
            begin = time.perf_counter()
            ask(TOPICS[language], text, memory)
            timings.append(time.perf_counter() - begin)
        timings.sort()
        p50 = timings[len(timings) // 2]
        p99 = timings[min(len(timings) - 1, round(len(timings) * 0.99) - 1)]
        print(
            f"{language:<9}{args.runs:>6}{args.chars:>7}{_ms(p50):>13}{_ms(p99):>13}"
            f"{_ms(timings[-1]):>13}{_ms(statistics.fmean(timings)):>13}"
        )


if __name__ == "__main__":
    main()

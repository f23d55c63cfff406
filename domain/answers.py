"""Whether a tutor's question was answered by a later explanation.

The tutor quotes, in “…”, the words each question is about, so the quoted words are
the question's key terms; a later explanation that takes up at least half of them has
turned to what was asked. Both the per-turn analysis (were the last questions
answered?) and consolidation (which questions are still open?) need this one rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from domain.tutor import markers
from domain.words import content_words

# Half the key terms: a learner answering "what is chlorophyll, and why green?" by
# explaining chlorophyll alone has answered; mentioning one of four words has not.
ANSWER_SHARE = 0.5
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|「([^」]+)」")
# The tutor's own framing words, which say nothing about what the question is about.
_FRAMING = frozenset(
    {"mention", "mean", "exactly", "example", "analogy", "everyday", "life", "picture", "friend",
     "drawing", "comparison", "explain", "remember", "matter", "words", "understand", "check",
     "true", "sure", "happen", "step", "name", "list", "12-year-old", "year-old",
     "解释", "例子", "比喻", "生活", "小学生", "听懂", "具体", "确定", "验证", "发生", "记住", "朋友", "比方"}
)  # fmt: skip
_EXAMPLE = (markers.EN_EXAMPLE, markers.ZH_EXAMPLE)


@dataclass(frozen=True)
class QuestionCoverage:
    """How far one question was taken up: its key terms, those the answer used, and the verdict."""

    question: str
    key_terms: tuple[str, ...]
    covered: tuple[str, ...]
    answered: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (lists, not tuples), for tables and result topics."""
        data = asdict(self)
        data["key_terms"], data["covered"] = list(self.key_terms), list(self.covered)
        return data


def key_terms(question: str, topic: str = "") -> tuple[str, ...]:
    """The content words of the question's quotes (or of the whole question when it quotes nothing).

    Hedges are dropped from quotes (asking about “kind of” is not about kinds), and so are
    the topic's own words, which any answer repeats whether it answers or not.
    """
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(question)]
    source = " ".join(quoted) if quoted else question
    source = markers.ZH_HEDGE.sub(" ", markers.EN_HEDGE.sub(" ", source))
    topic_words = set(content_words(topic)) if topic.strip() else set()
    seen: dict[str, None] = {}
    for word in content_words(source):
        if word not in _FRAMING and word not in topic_words:
            seen.setdefault(word, None)
    return tuple(seen)


def coverage(
    question: str, explanation: str, topic: str = "", still_unexplained: Iterable[str] = ()
) -> QuestionCoverage:
    """Whether ``explanation`` answers ``question``.

    A key term among ``still_unexplained`` (the terms the explanation uses without
    saying what they are) is not covered: repeating "chlorophyll" does not answer
    "what is chlorophyll?". A question left with no key terms (the tutor's fallback
    "give me an example of <topic>") is answered by an example or an analogy.
    """
    keys = key_terms(question, topic)
    if not keys:
        answered = any(p.search(explanation) for p in _EXAMPLE)
        return QuestionCoverage(question, (), (), answered)
    present = set(content_words(explanation))
    blocked = {w for t in still_unexplained for w in content_words(t)} | set(still_unexplained)
    covered = tuple(
        k for k in keys if k not in blocked and (k in present or (not k.isascii() and k in explanation))
    )
    answered = len(covered) >= max(1, math.ceil(ANSWER_SHARE * len(keys)))
    return QuestionCoverage(question, keys, covered, answered)

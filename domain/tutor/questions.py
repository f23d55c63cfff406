# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""How a curious student puts each finding into words, in English and in Chinese.

One template per finding kind (per hedge flavour for ``vague``), in the voice of a
12-year-old who wants to understand, not of an examiner. Every question quotes, in “…”,
the learner's own words it is about, so the learner sees at once what to fix.
"""

from __future__ import annotations

from domain.tutor.findings import hedge_flavour
from domain.tutor.models import Finding, Language

_EN = {
    "unexplained_term": "You mentioned “{subject}” — what is that, in words a 12-year-old would understand?",
    "contradiction": (
        "Earlier you said “{evidence}”, but now you say “{subject}” — which one is right, and why?"
    ),
    "vague:fuzzy": "You said “{subject}” — what exactly do you mean by “{evidence}” there?",
    "vague:how": "You said “{subject}” — how does that actually happen, step by step?",
    "vague:list": "You said “{subject}” — what else is in that list? Could you name the things you mean?",
    "vague:unsure": "You said “{subject}” — are you sure? How could we check whether it's true?",
    "no_cause": "You said “{subject}” — but why does that happen? What makes it happen?",
    "no_example": "Could you give me an example of “{subject}”? Something I could picture in everyday life?",
}
_ZH = {
    "unexplained_term": "你提到了“{subject}”，能用小学生也能听懂的话解释一下它是什么吗？",
    "contradiction": "你之前说“{evidence}”，现在又说“{subject}”，到底哪个对呢？为什么？",
    "vague:fuzzy": "你说“{subject}”，这里的“{evidence}”具体是指什么呢？",
    "vague:how": "你说“{subject}”，它具体是怎么发生的？能一步一步讲讲吗？",
    "vague:list": "你说“{subject}”，还包括哪些呢？能具体说说吗？",
    "vague:unsure": "你说“{subject}”，你确定吗？我们怎么才能验证它对不对呢？",
    "no_cause": "你说“{subject}”，可是为什么会这样呢？是什么导致的？",
    "no_example": "能举个例子说明“{subject}”吗？最好是生活中能看到的。",
}
# Asked when nothing else is: an example or an analogy is the Feynman technique's
# universal next step. Several, so a conversation does not hear the same one twice.
_EN_FALLBACKS = (
    "Could you give me an example or an analogy for “{topic}”, something from everyday life I could picture?",
    "If you had to explain “{topic}” to a friend with a drawing or a comparison, what would it be?",
    "What is the one thing about “{topic}” I should remember, and why does it matter?",
)
_ZH_FALLBACKS = (
    "能用一个生活中的例子或者比喻，给我讲讲“{topic}”吗？",
    "如果要用一幅画或者一个比方给朋友讲“{topic}”，你会怎么讲？",
    "关于“{topic}”，我最应该记住的一点是什么？为什么它重要？",
)
_EN_FALLBACKS_NO_TOPIC = (
    "Could you give me an example or an analogy — something from everyday life I could picture?",
    "If you had to explain it to a friend with a drawing or a comparison, what would it be?",
)
_ZH_FALLBACKS_NO_TOPIC = (
    "能用一个生活中的例子或者比喻给我讲讲吗？",
    "如果要用一幅画或者一个比方给朋友讲，你会怎么讲？",
)


def phrase(finding: Finding, language: Language) -> str:
    """The question a curious student would ask about ``finding``."""
    templates = _ZH if language == "zh" else _EN
    key: str = finding.kind
    if key == "vague":
        key = f"vague:{hedge_flavour(finding.evidence, language)}"
    return templates[key].format(subject=finding.subject, evidence=finding.evidence)


def fallbacks(topic: str, language: Language) -> list[str]:
    """Questions for an explanation with no gap found (or too little to find one in)."""
    topic = topic.strip()
    if not topic:
        return list(_ZH_FALLBACKS_NO_TOPIC if language == "zh" else _EN_FALLBACKS_NO_TOPIC)
    return [t.format(topic=topic) for t in (_ZH_FALLBACKS if language == "zh" else _EN_FALLBACKS)]

# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""The words that give a gap away, per language, as compiled patterns.

Kept apart from the detectors so that adding a hedge or a causal word is a one-line
change that needs no reading of detection code.
"""

from __future__ import annotations

import re
from typing import Literal

HedgeFlavour = Literal["fuzzy", "how", "list", "unsure"]


def _words(*phrases: str) -> re.Pattern[str]:
    """English phrases as one case-insensitive pattern, longest first, on word boundaries."""
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:{body})(?![\w'’])", re.IGNORECASE)


def _chars(*phrases: str) -> re.Pattern[str]:
    """Chinese phrases as one pattern, longest first (Chinese has no word boundaries to anchor on)."""
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)))


# Hedges, each with the kind of question it calls for: "fuzzy" asks what exactly is meant,
# "how" asks for the missing mechanism, "list" asks what else belongs to a list cut short,
# "unsure" asks how the learner could check.
EN_HEDGES: dict[str, HedgeFlavour] = {
    "kind of": "fuzzy",
    "sort of": "fuzzy",
    "basically": "fuzzy",
    "more or less": "fuzzy",
    "pretty much": "fuzzy",
    "somehow": "how",
    "stuff": "list",
    "things like that": "list",
    "something like that": "list",
    "and so on": "list",
    "etc.": "list",
    "or something": "list",
    "i think": "unsure",
    "i guess": "unsure",
    "maybe": "unsure",
    "probably": "unsure",
    "perhaps": "unsure",
    "i'm not sure": "unsure",
}
ZH_HEDGES: dict[str, HedgeFlavour] = {
    "差不多": "fuzzy",
    "反正": "fuzzy",
    "某种": "fuzzy",
    "基本上": "fuzzy",
    "不知怎么": "how",
    "之类的": "list",
    "什么的": "list",
    "一些东西": "list",
    "等等": "list",
    "大概": "unsure",
    "可能": "unsure",
    "好像": "unsure",
    "应该是": "unsure",
    "也许": "unsure",
    "似乎": "unsure",
    "我觉得": "unsure",
    "我猜": "unsure",
}
# "etc." ends in a dot, which a trailing word boundary would reject: matched on its own.
EN_HEDGE = re.compile(
    _words(*(h for h in EN_HEDGES if h != "etc.")).pattern + r"|(?<![\w])etc\.", re.IGNORECASE
)
ZH_HEDGE = _chars(*ZH_HEDGES)
# "a kind of molecule" classifies, it does not hedge.
EN_NOT_HEDGE_BEFORE = re.compile(
    r"\b(?:a|an|one|this|that|what|which|every|any|some|the|another|same|each|no|these|those|all)\s+$",
    re.IGNORECASE,
)
# 不可能 (impossible), 可能性 (possibility), 就好像 (just like: an analogy), 做什么的 (what it does for).
ZH_NOT_HEDGE = re.compile(r"不可能|可能性|就好像|[做干用为是]什么的")

EN_EXAMPLE = _words(
    "for example",
    "for instance",
    "e.g.",
    "such as",
    "like when",
    "imagine",
    "let's say",
    "let us say",
    "say you",
    "picture this",
    "think of",
    "suppose",
    "just like",
    "is like",
    "it's like",
)
ZH_EXAMPLE = _chars(
    "比如", "例如", "举个例子", "举例", "譬如", "像是", "好比", "就像", "想象", "假如", "假设"
)

EN_CAUSE = _words(
    "because",
    "so",
    "therefore",
    "thus",
    "hence",
    "which causes",
    "causes",
    "caused",
    "cause",
    "leads to",
    "lead to",
    "led to",
    "due to",
    "since",
    "that's why",
    "that is why",
    "as a result",
    "thanks to",
    "the reason",
    "results in",
    "result in",
    "in order to",
)
ZH_CAUSE = re.compile(r"因为|所以|因此|导致|由于|使得|于是|原因|因而|从而|之所以|造成|引起|为了|让|使(?!用)")

# A sentence that says something changes, moves or is produced is one that begs a "why".
EN_EFFECT = re.compile(
    r"(?<![\w'])(?:makes?|made|turns?|turned|becomes?|became|changes?|changed|grows?|grew|"
    r"increases?|increased|decreases?|decreased|rises?|rose|falls?|fell|drops?|dropped|pulls?|pulled|"
    r"push(?:es)?|pushed|moves?|moved|produces?|produced|creates?|created|releases?|released|"
    r"converts?|converted|transforms?|transformed|forms?|formed|splits?|combines?|combined|"
    r"expands?|shrinks?|doubles?|doubled|attracts?|attracted|absorbs?|absorbed|stores?|stored|"
    r"sends?|sent|accelerates?|speeds? up|slows? down|gets? (?:bigger|smaller|faster|slower|more|less))"
    r"(?![\w'])",
    re.IGNORECASE,
)
ZH_EFFECT = re.compile(
    r"变成|变为|变得|产生|增加|减少|变大|变小|转化|转变|形成|释放|吸收|掉下|落下|下落|上升|下降|增长|"
    r"翻倍|变快|变慢|越来越|加快|减慢|吸引|推动|储存|发送|生成|制造"
)

# Definitions of the topic itself ("Photosynthesis is how ...") state no effect to ask "why" about.
EN_DEFINITION_VERB = r"(?:is|are|means|refers\s+to)"
ZH_DEFINITION_VERB = r"(?:就是|是指|指的是|是|指)"

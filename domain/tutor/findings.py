# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""The ``vague``, ``no_example`` and ``no_cause`` detectors.

Each is a small pure function of the cut explanation (and the topic), returning its
findings best first. Terms and contradictions, which need more machinery, live in
``terms.py`` and ``contradictions.py``.
"""

from __future__ import annotations

import re

from domain.tutor import markers
from domain.tutor.models import Finding, Language
from domain.tutor.text import Document, Sentence, clause_around, quote


def find_vague(doc: Document) -> list[Finding]:
    """One finding per distinct hedge, in order of first use.

    A hedge marks the exact spot where the learner is unsure or hand-waving, which is
    where the Feynman technique says understanding breaks down.
    """
    pattern = markers.ZH_HEDGE if doc.language == "zh" else markers.EN_HEDGE
    seen: set[str] = set()
    findings = []
    for match in pattern.finditer(doc.text):
        hedge = match.group(0)
        key = re.sub(r"\s+", " ", hedge.lower())
        if key in seen or _not_a_hedge(doc, match):
            continue
        sentence = doc.sentence_at(match.start())
        if sentence is None:
            continue
        seen.add(key)
        clause = clause_around(sentence.text, match.start() - sentence.start, doc.language)
        findings.append(Finding(kind="vague", subject=quote(clause, doc.language, hedge), evidence=hedge))
    return findings


def hedge_flavour(hedge: str, language: Language) -> markers.HedgeFlavour:
    """Which kind of question a hedge calls for (see ``markers.EN_HEDGES``)."""
    table = markers.ZH_HEDGES if language == "zh" else markers.EN_HEDGES
    return table.get(re.sub(r"\s+", " ", hedge.lower().replace("’", "'")), "fuzzy")


def _not_a_hedge(doc: Document, match: re.Match[str]) -> bool:
    """Uses of hedge words that do not hedge: "a kind of sugar", 不可能, 就好像."""
    if doc.language == "zh":
        around = doc.text[max(0, match.start() - 1) : match.end() + 1]
        return bool(markers.ZH_NOT_HEDGE.search(around))
    if match.group(0).lower().startswith(("kind", "sort")):
        return bool(markers.EN_NOT_HEDGE_BEFORE.search(doc.text[max(0, match.start() - 12) : match.start()]))
    return False


def find_no_example(doc: Document) -> list[Finding]:
    """The explanation's main claim, when the explanation never gives an example or an analogy.

    One finding at most: asking for an example of every sentence would drown the learner.
    The main claim is taken to be the first statement, where explanations put their thesis.
    """
    pattern = markers.ZH_EXAMPLE if doc.language == "zh" else markers.EN_EXAMPLE
    if pattern.search(doc.text):
        return []
    claims = doc.claims()
    if not claims:
        return []
    claim = claims[0]
    return [Finding(kind="no_example", subject=quote(claim.text, doc.language), evidence=claim.text)]


def find_no_cause(doc: Document, topic: str) -> list[Finding]:
    """Statements that something changes, moves or is produced, with no "because" anywhere near.

    A cause counts if it is in the statement itself or opens the next sentence
    ("That's because ..."). Definitions of the topic are not asked "why". When the whole
    explanation holds no causal word at all, its first statement is asked about anyway:
    an explanation that never says why explains nothing.
    """
    cause = markers.ZH_CAUSE if doc.language == "zh" else markers.EN_CAUSE
    effect = markers.ZH_EFFECT if doc.language == "zh" else markers.EN_EFFECT
    claims = doc.claims()
    findings = []
    for index, sentence in enumerate(claims):
        if not effect.search(sentence.text) or cause.search(sentence.text):
            continue
        following = claims[index + 1].text if index + 1 < len(claims) else ""
        if cause.search(following[:20]) or _defines_topic(sentence, topic, doc.language):
            continue
        findings.append(_no_cause(sentence, doc))
    if not findings and claims and not cause.search(doc.text):
        candidates = [s for s in claims if not _defines_topic(s, topic, doc.language)] or claims
        findings.append(_no_cause(candidates[0], doc))
    return findings


def _no_cause(sentence: Sentence, doc: Document) -> Finding:
    return Finding(kind="no_cause", subject=quote(sentence.text, doc.language), evidence=sentence.text)


def _defines_topic(sentence: Sentence, topic: str, language: Language) -> bool:
    """ "Photosynthesis is how plants ..." / "复利就是利滚利": a definition, not an effect."""
    topic = topic.strip()
    if not topic:
        return False
    if language == "zh":
        pattern = rf"^\W*{re.escape(topic)}\s*[，,]?\s*{markers.ZH_DEFINITION_VERB}"
        return bool(re.search(pattern, sentence.text))
    pattern = rf"^\W*(?:the\s+)?{re.escape(topic)}\w*\s+{markers.EN_DEFINITION_VERB}\b"
    return bool(re.search(pattern, sentence.text, re.IGNORECASE))

# ruff: noqa: RUF001, RUF002 - Chinese text and typographic quotes are this module's data.
"""The ``unexplained_term`` detector: jargon the learner uses without saying what it is.

The Feynman technique's first test is whether the explanation survives without jargon,
so a rare word, an acronym or a technical compound that is never explained is the
most useful thing a curious student can ask about. A term is skipped when the learner
explains it ("X is ...", "X, which ...", "X (...)", "called X"; 是/指/就是/（…）/叫做),
here or in an earlier turn, and when it is the topic itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.tutor import lexicon, segmenter
from domain.tutor.models import Finding
from domain.tutor.text import Document

_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-–][A-Za-z0-9]+)*(?:['’]s)?")
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# jieba tags of words that can be terms: nouns, proper nouns (jieba mis-tags 叶绿素 as a
# person's name, nr), verbal nouns, idioms/fixed phrases (光反应 is l), abbreviations (年化 is j).
_ZH_TERM_TAGS = frozenset({"n", "nz", "vn", "nr", "nrt", "nrfg", "l", "j", "eng"})
_ZH_COMPOUND_TAGS = frozenset({"n", "nz", "vn", "nr", "nrt", "nrfg", "j"})
# Not terms though tagged like them: verb phrases jieba calls fixed phrases (储存起来/l,
# 跑出去/l), numeral-led words (一串串/n), and the 越…越 pattern (越长越/nr).
_ZH_NOT_TERM = re.compile(
    r"(?:起来|出去|出来|下来|下去|上来|上去|进来|进去|过来|过去|回来|回去|开来)$|^[一二三四五六七八九十两几每]|越.*越"
)


@dataclass
class _Candidate:
    """A term as first written, where it first appears, and how often it is used."""

    text: str
    start: int
    count: int = 1


def find_unexplained_terms(doc: Document, topic: str, earlier: Sequence[str] = ()) -> list[Finding]:
    """Unexplained terms, most used first, then in order of first use.

    Frequency first because a term the learner leans on again and again is central to
    the explanation; among equals the first is the first hurdle a listener meets.
    """
    findings = []
    for term in find_terms(doc, topic, earlier):
        if term.explained:
            continue
        sentence = doc.sentence_at(term.start)
        findings.append(
            Finding(
                kind="unexplained_term",
                subject=term.text,
                evidence=sentence.text if sentence else term.text,
            )
        )
    return findings


@dataclass(frozen=True)
class Term:
    """A term of an explanation: as first written, where, how often, and whether it is explained."""

    text: str
    start: int
    count: int
    explained: bool


def find_terms(doc: Document, topic: str, earlier: Sequence[str] = ()) -> list[Term]:
    """Every term but the topic, explained or not, most used first, then in order of first use.

    Public for the pipeline's analysis and memory, which need the explained terms too
    (what the learner has mastered), not only the gaps the tutor asks about.
    """
    candidates = _zh_candidates(doc.text) if doc.language == "zh" else _en_candidates(doc.text)
    explained_in = [_Text.of(doc.text), *(_Text.of(t) for t in earlier)]
    kept = [c for c in candidates.values() if not _is_topic(c.text, topic)]
    kept.sort(key=lambda c: (-c.count, c.start))
    return [Term(c.text, c.start, c.count, any(_explains(t, c.text) for t in explained_in)) for c in kept]


def _key(term: str) -> str:
    """Same term, however written: case, possessive and a plural ending do not count."""
    key = re.sub(r"['’]s$", "", term.lower())
    if key.isascii() and not lexicon.is_acronym(term):
        key = re.sub(r"(?<=[a-z]{3})s$", "", key)
    return key


def _add(found: dict[str, _Candidate], text: str, start: int) -> None:
    key = _key(text)
    if key in found:
        found[key].count += 1
    else:
        found[key] = _Candidate(text=re.sub(r"['’]s$", "", text), start=start)


# --- English ------------------------------------------------------------------------------


@functools.cache
def _glossary_pattern() -> re.Pattern[str]:
    body = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in lexicon.en_glossary())
    return re.compile(rf"(?<![\w-])(?:{body})(?:s|es)?(?![\w-])", re.IGNORECASE)


def _en_candidates(text: str) -> dict[str, _Candidate]:
    found: dict[str, _Candidate] = {}
    covered: set[int] = set()
    for match in _glossary_pattern().finditer(text):
        _add(found, match.group(0), match.start())
        covered.update(range(*match.span()))
    tokens = [m for m in _EN_TOKEN.finditer(text) if m.start() not in covered]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        word = re.sub(r"['’]s$", "", token.group(0))
        if lexicon.is_acronym(word):
            _add(found, word, token.start())
            i += 1
            continue
        if not lexicon.is_rare_en(word):
            i += 1
            continue
        # A run of rare words, closed by a head noun, is one compound ("Calvin cycle").
        j = i
        while j + 1 < len(tokens) and _adjacent(text, tokens[j], tokens[j + 1]):
            following = tokens[j + 1].group(0)
            if following.lower() in lexicon.en_heads() and not _plural(tokens[j].group(0)):
                j += 1
                break
            if _joins_compound(following):
                j += 1
            else:
                break
        span_text = text[token.start() : tokens[j].end()]
        if j > i or not _proper_name(text, token):
            _add(found, span_text, token.start())
        i = j + 1
    return found


def _plural(word: str) -> bool:
    """ "Enzymes" before "speed" is a subject and its verb: compounds take singular modifiers
    ("enzyme activity"), so a plural-looking word does not open one with a head noun."""
    return bool(re.search(r"[^siu]s$", word.lower()))


def _joins_compound(word: str) -> bool:
    """A rare word that can continue a compound ("adenosine triphosphate"): not an acronym, and not
    inflected like a verb ("chlorophyll *absorbs*"), which is the next clause, not part of the term."""
    if not lexicon.is_rare_en(word) or lexicon.is_acronym(word):
        return False
    return not re.search(r"(?:[^s]s|ed|ing|ly)$", word.lower())


def _adjacent(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    """Only blanks between two tokens: no comma or full stop cuts a compound."""
    return text[a.end() : b.start()].isspace()


def _proper_name(text: str, token: re.Match[str]) -> bool:
    """Capitalised in mid-sentence: a name ("Newton"), which is not jargon to explain on its own."""
    word = token.group(0)
    if not word[0].isupper() or word[1:].lower() != word[1:]:
        return False
    before = text[: token.start()].rstrip(" \t\"'“‘(")
    return bool(before) and before[-1] not in ".!?\n:"


# --- Chinese ------------------------------------------------------------------------------


def _zh_candidates(text: str) -> dict[str, _Candidate]:
    found: dict[str, _Candidate] = {}
    tagged = segmenter.tag(text)
    offsets = []
    at = 0
    for word, _ in tagged:
        offsets.append(at)
        at += len(word)
    i = 0
    while i < len(tagged):
        word, pos = tagged[i]
        if pos == "eng":
            if lexicon.is_acronym(word) or lexicon.is_rare_en(word):
                _add(found, word, offsets[i])
            i += 1
            continue
        if (
            pos not in _ZH_TERM_TAGS
            or not _HAN_WORD.fullmatch(word)
            or not lexicon.is_rare_zh(word)
            or _ZH_NOT_TERM.search(word)
        ):
            i += 1
            continue
        # A rare noun followed by rare nouns, or closed by a head noun, is one compound:
        # 卡尔文+循环, 类囊体+薄膜, 年化+收益率, 引力+常数. Other common nouns do not join,
        # since jieba tags some verbs as nouns (线粒体 产生/n ATP).
        j = i
        while j + 1 < len(tagged):
            following, following_pos = tagged[j + 1]
            if (
                following_pos not in _ZH_COMPOUND_TAGS
                or not _HAN_WORD.fullmatch(following)
                or _ZH_NOT_TERM.search(following)
            ):
                break
            if lexicon.is_rare_zh(following):
                j += 1
            elif following in lexicon.zh_heads():
                j += 1
                break
            else:
                break
        _add(found, "".join(w for w, _ in tagged[i : j + 1]), offsets[i])
        i = j + 1
    return found


# --- shared -------------------------------------------------------------------------------


def _is_topic(term: str, topic: str) -> bool:
    """The topic itself, or a part of it, is what the learner is explaining: not jargon to question."""
    if not topic.strip():
        return False
    t, p = term.lower(), topic.lower().strip()
    if t in p or p in t:
        return True
    term_words = re.findall(r"[a-z0-9]+", t)
    topic_words = re.findall(r"[a-z0-9]+", p)
    if not term_words or not topic_words:
        return False
    if all(any(lexicon.stems_match(w, tw) for tw in topic_words) for w in term_words):
        return True
    # A kind of the topic is the topic: "three-way handshake" while explaining "TCP handshake".
    return len(term_words) > 1 and lexicon.stems_match(term_words[-1], topic_words[-1])


# "ATP is a molecule ..." defines; "ATP is stored ...", "ATP is probably ..." and "ATP is not ..."
# only say something about it.
_NOT_DEFINING = (
    r"(?:[a-z]+(?:ed|ly)\b|not\b|never\b|then\b|also\b|still\b|now\b|there\b|here\b|maybe\b|"
    r"always\b|often\b|very\b|too\b|so\b|more\b|less\b|different\b|important\b|made\b|"
    r"done\b|taken\b|given\b|found\b|broken\b|seen\b|sent\b|built\b|kept\b|held\b|shown\b|"
    r"needed\b|why\b|because\b|in\b|on\b|at\b|inside\b|from\b|to\b)"
)
# What may follow a term to explain it, and what may precede it. Checked only at the
# places the term occurs, which is what keeps the detector fast on long explanations.
_EN_EXPLAINED_AFTER = re.compile(
    rf"(?:s|es)?(?:['’]s)?(?:\s+(?:means|mean|refers?\s+to|stands\s+for)\b"
    rf"|\s+(?:is|are)\s+(?!{_NOT_DEFINING})[a-z]"
    r"|\s*,\s*(?:which|i\.e\.|that\s+is|or|a|an|the|also\s+called|also\s+known|meaning)\b"
    r"|\s*(?:\(|:\s|[—–]|\s-\s))",
    re.IGNORECASE,
)
_EN_EXPLAINED_BEFORE = re.compile(
    r"\b(?:called|known\s+as|named|termed)\s+(?:the\s+|a\s+|an\s+)?[“\"]?$", re.IGNORECASE
)
_ZH_EXPLAINED_AFTER = re.compile(r"\s*[，,]?\s*(?:也就是说|也就是|意思是|指的是|是指|就是|即|是|指)|\s*[（(]")
# "一种叫做ATP的分子" describes ATP before naming it; "暗反应也叫卡尔文循环" only gives another name.
_ZH_EXPLAINED_BEFORE = re.compile(r"(?<![也又还])(?:叫做|叫作|称为|称作|名叫|叫)\s*[“\"]?$")
_CONTEXT = 40


@dataclass(frozen=True)
class _Text:
    """A text prepared for explanation look-ups: blanks collapsed, and a lower-case twin."""

    text: str
    lowered: str

    @classmethod
    def of(cls, text: str) -> _Text:
        collapsed = re.sub(r"\s+", " ", text)
        return cls(text=collapsed, lowered=collapsed.lower())


def _word_at(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is a whole word, possibly with a plural "s" ("chloroplast" in "chloroplasts")."""
    if start > 0 and text[start - 1].isalnum():
        return False
    if end < len(text) and text[end] == "s":
        end += 1
    return end == len(text) or not text[end].isalnum()


def _explains(prepared: _Text, term: str) -> bool:
    """Whether the text says what ``term`` is: a definition, an apposition, a bracket, "called X"."""
    zh = not term.isascii()
    acronym = not zh and lexicon.is_acronym(term)
    # Acronyms keep their case: "ATP is ..." explains ATP, "atp" is some other word.
    haystack, needle = (prepared.text, term) if acronym else (prepared.lowered, term.lower())
    needle = re.sub(r"\s+", " ", needle)
    after, before = (
        (_ZH_EXPLAINED_AFTER, _ZH_EXPLAINED_BEFORE) if zh else (_EN_EXPLAINED_AFTER, _EN_EXPLAINED_BEFORE)
    )
    at = haystack.find(needle)
    while at >= 0:
        end = at + len(needle)
        whole_word = zh or _word_at(haystack, at, end)
        if whole_word and (
            after.match(prepared.text, end, end + _CONTEXT)
            or before.search(prepared.text[max(0, at - _CONTEXT) : at])
        ):
            return True
        at = haystack.find(needle, at + 1)
    return False

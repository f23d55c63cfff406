# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""The ``contradiction`` detector: the learner now denies what an earlier turn asserted, or the reverse.

Kept to one reliable shape, negation on the same subject and predicate: "X is Y" against
"X is not / isn't Y" (also can/will/does: "X can't Y", "X doesn't Y" against "X Ys"), and
"X是Y" against "X不是Y" (also 会/不会, 能/不能, 有/没有). Pronoun subjects ("it", 它) are
skipped since they may point at different things in different turns, and so are
statements reported as others' beliefs ("some people think ...", 有人以为 ...), which
learners quote precisely to refute them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from domain.tutor.models import Finding, Language
from domain.tutor.text import quote

_EN_CLAUSE = re.compile(r"[^.!?;:,\n]+")
_ZH_CLAUSE = re.compile(r"[^。！？!?；;，,：:\n]+")
_EN_NEGATION = re.compile(
    r"\b(?P<aux>is|are|was|were|can|will|does|do|did)\s+(?:not|never)\b"
    r"|\b(?P<contracted>isn't|aren't|wasn't|weren't|can't|cannot|won't|doesn't|don't|didn't)"
)
_EN_CONTRACTED = {
    "isn't": "is",
    "aren't": "are",
    "wasn't": "was",
    "weren't": "were",
    "can't": "can",
    "cannot": "can",
    "won't": "will",
    "doesn't": "does",
    "don't": "do",
    "didn't": "did",
}
_EN_POSITIVE_AUX = {
    "is": r"(?:is|are|was|were|'s)",
    "are": r"(?:is|are|was|were|'re)",
    "was": r"(?:is|are|was|were)",
    "were": r"(?:is|are|was|were)",
    "can": r"(?:can|could)",
    "will": r"(?:will|'ll|would)",
}
_EN_ADVERBS = r"(?:(?:really|actually|also|always|just|definitely|certainly|still|do|does|did)\s+)*"
_EN_ARTICLES = {"a", "an", "the"}
_EN_SUBJECT_STOP = frozenset(
    {
        *("i", "you", "we", "and", "but", "or", "so", "because", "if", "that", "which", "who"),
        *("then", "now", "well", "actually", "really", "also", "just", "said", "say", "think"),
        *("thought", "believe", "know", "when", "while", "although", "though", "since", "as", "than"),
    }
)
# A negation under a condition ("if plants don't get light") denies nothing in general.
_EN_CONDITIONAL = re.compile(r"\b(?:if|unless|without|when|whenever|suppose)\b")
_ZH_CONDITIONAL = re.compile(r"如果|要是|假如|假设|只要|除非|没有的话|的话")
_PRONOUNS = frozenset(
    {
        "it",
        "this",
        "that",
        "they",
        "he",
        "she",
        "there",
        "these",
        "those",
        "which",
        "what",
        "who",
        "something",
    }
)
_EN_REPORTED = re.compile(
    r"\b(?:people|someone|somebody|others|many|most|myth|misconception|wrongly|mistakenly)\b", re.IGNORECASE
)
_EN_SUBJECT_WORDS = 3
_EN_PREDICATE_WORDS = 2

_ZH_NEGATION = re.compile(r"(?P<neg>并不是|不是|不会|不能|并没有|没有)")
_ZH_POSITIVE = {
    "不是": "是",
    "并不是": "是",
    "不会": "(?:会)?",
    "不能": "(?:能|可以)",
    "没有": "有",
    "并没有": "有",
}
_ZH_ADVERBS = r"(?:也|都|就|还|其实|确实|真的|一定|肯定|当然|的确)*"
_ZH_LEADING = re.compile(
    r"^(?:但是|可是|其实|所以|因为|而且|然而|不过|我觉得|我认为|我想|实际上|事实上|现在|之前|以前|然后|那么|而|但|可)+"
)
_ZH_TRAILING_ADVERBS = re.compile(r"(?:也|都|就|还|并|其实|根本|真的|确实|一定|可|却|当然)+$")
_ZH_PRONOUNS = frozenset(
    {"它", "这", "那", "这个", "那个", "它们", "他", "她", "他们", "她们", "这些", "那些"}
)
_ZH_REPORTED = re.compile(r"有人|人们|很多人|以为|误以为|误解|传说|据说")
_ZH_PREDICATE_CHARS = 4


@dataclass(frozen=True)
class _Negation:
    """A negated statement: its clause, subject, how its positive reads, and its predicate."""

    clause: str
    start: int
    positive: re.Pattern[str]


def find_contradictions(current: str, earlier: Sequence[str], language: Language) -> list[Finding]:
    """Statements of ``current`` contradicting one of the ``earlier`` user turns, in order of appearance.

    Checked both ways: a new denial of an old claim, and a new claim of an old denial.
    """
    hits: list[tuple[int, Finding]] = []
    seen: set[str] = set()
    for negation in _negations(current, language):
        for old in earlier:
            clause = _positive_clause(negation.positive, old, language)
            if clause:
                hits.append((negation.start, _finding(negation.clause, clause, language)))
                break
    for old in earlier:
        for negation in _negations(old, language):
            match = _find_positive(negation.positive, current, language)
            if match:
                clause, start = match
                hits.append((start, _finding(clause, negation.clause, language)))
    findings = []
    for _, finding in sorted(hits, key=lambda h: h[0]):
        if finding.subject not in seen:
            seen.add(finding.subject)
            findings.append(finding)
    return findings


def _finding(now: str, before: str, language: Language) -> Finding:
    return Finding(kind="contradiction", subject=quote(now, language), evidence=quote(before, language))


def _clauses(text: str, language: Language) -> Iterator[tuple[str, int]]:
    pattern = _ZH_CLAUSE if language == "zh" else _EN_CLAUSE
    for match in pattern.finditer(text):
        clause = match.group(0)
        if clause.strip():
            yield clause.strip(), match.start() + len(clause) - len(clause.lstrip())


def _negations(text: str, language: Language) -> Iterator[_Negation]:
    for clause, start in _clauses(text, language):
        built = _zh_negation(clause) if language == "zh" else _en_negation(clause)
        if built is not None:
            yield _Negation(clause=clause, start=start, positive=built)


def _positive_clause(positive: re.Pattern[str], text: str, language: Language) -> str | None:
    found = _find_positive(positive, text, language)
    return found[0] if found else None


def _find_positive(positive: re.Pattern[str], text: str, language: Language) -> tuple[str, int] | None:
    reported = _ZH_REPORTED if language == "zh" else _EN_REPORTED
    for clause, start in _clauses(text, language):
        match = positive.search(_normalise(clause) if language == "en" else clause)
        if match and not reported.search(clause[: match.start()]):
            return clause, start
    return None


def _normalise(text: str) -> str:
    """Lower case and straight apostrophes, the same length as ``text``."""
    return text.lower().replace("’", "'")


# --- English ------------------------------------------------------------------------------


def _en_negation(clause: str) -> re.Pattern[str] | None:
    """The pattern of the positive twin of a negated English clause, or None if it has no usable one."""
    lowered = _normalise(clause)
    negation = _EN_NEGATION.search(lowered)
    if negation is None:
        return None
    if _EN_CONDITIONAL.search(lowered[: negation.start()]):
        return None
    aux = negation.group("aux") or _EN_CONTRACTED[negation.group("contracted")]
    subject = _en_subject(lowered[: negation.start()].split())
    predicate = [w for w in re.findall(r"[a-z0-9'-]+", lowered[negation.end() :]) if w not in _EN_ARTICLES]
    if not subject or not predicate:
        return None
    predicate = predicate[:_EN_PREDICATE_WORDS]
    subject_re = "".join(re.escape(w) + r"\s+" for w in subject[:-1])
    head = subject[-1]
    last = re.escape(head[:-1]) + "s?" if head.endswith("s") else re.escape(head) + "(?:s|es)?"
    subject_re = rf"(?<![\w']){subject_re}{last}"
    articles = r"(?:(?:a|an|the)\s+)?"
    rest = r"\s+".join(re.escape(w) for w in predicate[1:])
    rest = rf"\s+{articles}{rest}" if rest else ""
    if aux in ("does", "do", "did"):
        verb = predicate[0]
        forms = [re.escape(verb) + r"(?:s|es|ed|d)?"]
        if verb.endswith("y"):
            forms.append(re.escape(verb[:-1]) + r"(?:ies|ied)")
        verb_re = "(?:" + "|".join(forms) + ")"
        body = rf"{subject_re}\s+{_EN_ADVERBS}{verb_re}{rest}(?![\w'])"
    else:
        first = re.escape(predicate[0])
        body = rf"{subject_re}\s*{_EN_POSITIVE_AUX[aux]}\s+{_EN_ADVERBS}{articles}{first}{rest}(?![\w'])"
    return re.compile(body)


def _en_subject(words: list[str]) -> list[str]:
    """The noun phrase right before the verb: up to three words, back to a connective."""
    subject: list[str] = []
    for word in reversed(words):
        word = word.strip("\"'“”‘’()")
        if not word or word in _EN_SUBJECT_STOP or len(subject) == _EN_SUBJECT_WORDS:
            break
        subject.insert(0, word)
    while subject and subject[0] in _EN_ARTICLES:
        subject.pop(0)
    if not subject or (len(subject) == 1 and subject[0] in _PRONOUNS):
        return []
    return subject


# --- Chinese ------------------------------------------------------------------------------


def _zh_negation(clause: str) -> re.Pattern[str] | None:
    """The pattern of the positive twin of a negated Chinese clause (X不是Y → X(也/都…)是Y)."""
    negation = _ZH_NEGATION.search(clause)
    if negation is None or _ZH_CONDITIONAL.search(clause):
        return None
    subject = _ZH_LEADING.sub("", clause[: negation.start()].strip())
    subject = _ZH_TRAILING_ADVERBS.sub("", subject).strip()
    predicate = clause[negation.end() :].strip()[:_ZH_PREDICATE_CHARS]
    if len(subject) < 1 or subject in _ZH_PRONOUNS or not predicate:
        return None
    positive = _ZH_POSITIVE[negation.group("neg")]
    return re.compile(rf"{re.escape(subject)}{_ZH_ADVERBS}{positive}{re.escape(predicate)}")

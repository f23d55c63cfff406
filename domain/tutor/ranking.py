"""Which finding to ask about first.

Findings are taken in turns, one of each kind per round, kinds in this order:
a contradiction (the learner's own statements disagree: nothing else can be right until
that is settled), an unexplained term (jargon is the Feynman technique's first signal
of borrowed understanding), a hedge (the learner marks the weak spot themselves),
a missing cause (says what, not why), a missing example. Taking one of each per round
keeps three questions from all being about jargon when the explanation has other gaps;
a finding quoting the same words as one already chosen waits until the end, and is
not made a question at all (see ``tutor._choose``): one sentence, one question.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.tutor.models import Finding, FindingKind

KIND_ORDER: tuple[FindingKind, ...] = ("contradiction", "unexplained_term", "vague", "no_cause", "no_example")


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """All findings, most useful first; each kind's own order (best first) is kept."""
    by_kind: dict[FindingKind, list[Finding]] = {kind: [] for kind in KIND_ORDER}
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        key = (finding.kind, finding.subject.lower())
        if key not in seen:
            seen.add(key)
            by_kind[finding.kind].append(finding)
    ranked: list[Finding] = []
    later: list[Finding] = []
    queues = [list(by_kind[kind]) for kind in KIND_ORDER]
    while any(queues):
        for queue in queues:
            while queue:
                finding = queue.pop(0)
                if overlaps(finding, ranked):
                    later.append(finding)
                    continue
                ranked.append(finding)
                break
    return ranked + later


def overlaps(finding: Finding, chosen: list[Finding]) -> bool:
    """Whether a chosen finding already quotes the same words (two questions on one sentence)."""
    if finding.kind == "unexplained_term":
        return False
    words = finding.subject.strip("…").lower()
    for other in chosen:
        if other.kind == "unexplained_term":
            continue
        theirs = other.subject.strip("…").lower()
        if words in theirs or theirs in words:
            return True
    return False

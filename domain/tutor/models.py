"""The tutor's values: a conversation turn, a finding about an explanation, and the reply.

Plain frozen dataclasses, so the stream agents and the HTTP API can pass them around,
compare them in tests and log them without any framework in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "zh"]
Role = Literal["user", "assistant"]
FindingKind = Literal["unexplained_term", "vague", "no_example", "no_cause", "contradiction"]


@dataclass(frozen=True)
class Turn:
    """One message of the short-term memory: the learner's (``user``) or the tutor's."""

    role: Role
    content: str


@dataclass(frozen=True)
class Finding:
    """A gap the tutor noticed in an explanation.

    ``subject`` is always what the question about it quotes, so a reader can match
    questions and findings; ``evidence`` is what gave the gap away:

    - ``unexplained_term``: the term as written / the sentence it first appears in;
    - ``vague``: the clause holding the hedge / the hedge itself ("kind of", "大概");
    - ``no_example`` and ``no_cause``: the claim (trimmed) / the whole sentence;
    - ``contradiction``: the new statement / the earlier statement it contradicts.
    """

    kind: FindingKind
    subject: str
    evidence: str


@dataclass(frozen=True)
class TutorReply:
    """What :func:`ask` returns: the questions, their language, and every finding, best first."""

    questions: list[str]
    language: Language
    findings: list[Finding] = field(default_factory=list)

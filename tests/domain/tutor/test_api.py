"""ask(): the public contract — language, bounds, determinism, fallbacks, and no framework inside."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import domain.tutor
from domain.tutor import Finding, Turn, TutorReply, ask, warm_up
from tests.domain.tutor.samples import load, names

LONG_EN = load("en_tcp_handshake")
LONG_ZH = load("zh_photosynthesis")
FALLBACK_GRAVITY = (
    "Could you give me an example or an analogy for “gravity”, something from everyday life I could picture?"
)


def test_the_package_exports_exactly_its_public_api() -> None:
    assert sorted(domain.tutor.__all__) == [
        "Finding",
        "FindingKind",
        "Language",
        "Turn",
        "TutorReply",
        "ask",
        "detect_language",
        "remember",
        "warm_up",
    ]


def test_the_tutor_imports_no_kafka_fastapi_or_faust() -> None:
    frameworks = "{'aiokafka', 'kafka', 'fastapi', 'faust', 'mode', 'starlette', 'pydantic'}"
    code = (
        "import sys, domain.tutor as t; t.warm_up(); t.ask('x', 'y');"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {frameworks}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_in_the_package_docstring_is_true() -> None:
    failures, tried = doctest.testmod(domain.tutor, verbose=False)
    assert failures == 0
    assert tried > 0


@pytest.mark.parametrize("name", names("en") + names("zh"))
def test_the_same_input_always_gives_the_same_reply(name: str) -> None:
    sample = load(name)
    memory = [Turn("user", "Mass is weight."), Turn("assistant", "Why?")]
    replies = {repr(ask(sample.topic, sample.text, memory)) for _ in range(5)}
    assert len(replies) == 1


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_no_more_questions_than_max_questions_are_asked(limit: int) -> None:
    for sample in (LONG_EN, LONG_ZH):
        reply = ask(sample.topic, sample.text, max_questions=limit)
        assert len(reply.questions) == min(limit, 5)


def test_three_questions_at_most_by_default_and_never_the_same_one_twice() -> None:
    for name in names("en") + names("zh"):
        sample = load(name)
        questions = ask(sample.topic, sample.text).questions
        assert 1 <= len(questions) <= 3
        assert len(set(questions)) == len(questions)


def test_max_questions_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_questions"):
        ask("gravity", "Things fall.", max_questions=0)


@pytest.mark.parametrize(
    ("topic", "text", "question"),
    [
        (
            "gravity",
            "",
            FALLBACK_GRAVITY,
        ),
        (
            "gravity",
            "   ...  ",
            FALLBACK_GRAVITY,
        ),
        (
            "gravity",
            "idk",
            FALLBACK_GRAVITY,
        ),
        ("万有引力", "", "能用一个生活中的例子或者比喻，给我讲讲“万有引力”吗？"),
        ("万有引力", "不知道", "能用一个生活中的例子或者比喻，给我讲讲“万有引力”吗？"),
        (
            "",
            "",
            "Could you give me an example or an analogy — something from everyday life I could picture?",
        ),
    ],
)
def test_empty_or_tiny_input_still_gets_one_question(topic: str, text: str, question: str) -> None:
    reply = ask(topic, text)
    assert reply.questions == [question]
    assert reply.findings == []


def test_findings_hold_every_gap_ranked_not_only_those_asked_about() -> None:
    reply = ask(LONG_EN.topic, LONG_EN.text)
    assert len(reply.findings) > len(reply.questions)
    assert [f.kind for f in reply.findings[:4]] == ["unexplained_term", "vague", "no_cause", "no_example"]


def test_a_contradiction_comes_before_every_other_finding() -> None:
    memory = [Turn("user", "The client doesn't send a SYN."), Turn("assistant", "Then what does it send?")]
    reply = ask(LONG_EN.topic, LONG_EN.text, memory)
    assert reply.findings[0] == Finding(
        "contradiction",
        subject="The client sends a SYN to the server",
        evidence="The client doesn't send a SYN",
    )


def test_two_questions_never_pick_at_the_same_sentence() -> None:
    reply = ask(
        "gravity", "Gravity kind of pulls things down. Heavy things probably fall faster than light ones."
    )
    assert reply.questions == [
        "You said “Gravity kind of pulls things down” — what exactly do you mean by “kind of” there?",
        "You said “Heavy things probably fall faster than light ones” — but why does that happen? "
        "What makes it happen?",
    ]
    assert [f.kind for f in reply.findings] == ["vague", "no_cause", "no_cause", "no_example", "vague"]


def test_the_reply_is_a_plain_frozen_value() -> None:
    reply = ask("gravity", "Gravity pulls.")
    assert isinstance(reply, TutorReply)
    with pytest.raises(AttributeError):
        reply.language = "zh"  # type: ignore[misc]


def test_warm_up_can_be_called_again_and_changes_nothing() -> None:
    before = ask(LONG_ZH.topic, LONG_ZH.text)
    warm_up()
    warm_up()
    assert ask(LONG_ZH.topic, LONG_ZH.text) == before

"""ask(): the public contract — language, bounds, determinism, fallbacks, and no framework inside."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import producers.tutor
from producers.tutor import Finding, Turn, TutorReply, ask, warm_up
from tests.producers.tutor.samples import load, names

LONG_EN = load("en_tcp_handshake")
LONG_ZH = load("zh_photosynthesis")


def test_the_package_exports_exactly_its_public_api() -> None:
    assert sorted(producers.tutor.__all__) == [
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
    code = (
        "import sys, producers.tutor as t; t.warm_up(); t.ask('x', 'y');"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'aiokafka', 'kafka', 'fastapi', 'faust', 'mode',"
        " 'starlette', 'pydantic'}]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_in_the_package_docstring_is_true() -> None:
    failures, tried = doctest.testmod(producers.tutor, verbose=False)
    assert (failures, tried) == (0, 1)


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
        assert 1 <= len(reply.questions) <= limit
        assert len(reply.questions) == min(limit, len(reply.findings))


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
            "Could you give me an example or an analogy for “gravity”, something from everyday life I could picture?",
        ),
        (
            "gravity",
            "   ...  ",
            "Could you give me an example or an analogy for “gravity”, something from everyday life I could picture?",
        ),
        ("gravity", "idk", "Could you give me an example or an analogy for “gravity”, something from everyday life I could picture?"),
        ("万有引力", "", "能用一个生活中的例子或者比喻，给我讲讲“万有引力”吗？"),
        ("万有引力", "不知道", "能用一个生活中的例子或者比喻，给我讲讲“万有引力”吗？"),
        ("", "", "Could you give me an example or an analogy — something from everyday life I could picture?"),
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
        "contradiction", subject="The client sends a SYN to the server", evidence="The client doesn't send a SYN"
    )


def test_two_questions_do_not_pick_at_the_same_sentence_while_other_gaps_remain() -> None:
    reply = ask("gravity", "Gravity kind of pulls things down. Orbits are round. The Moon goes around.")
    quoted = [q.split("“")[1].split("”")[0] for q in reply.questions]
    assert len(set(quoted)) == len(quoted)


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

"""Contradictions with what the learner said in an earlier turn, in English and Chinese."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import pytest

from domain.tutor import Finding, Turn, ask


def _memory(*said: str) -> list[Turn]:
    turns = []
    for text in said:
        turns += [Turn("user", text), Turn("assistant", "Can you say more?")]
    return turns


def _contradictions(topic: str, text: str, memory: list[Turn]) -> list[Finding]:
    return [f for f in ask(topic, text, memory).findings if f.kind == "contradiction"]


def test_denying_an_earlier_is_statement_is_asked_about_first() -> None:
    reply = ask("gravity", "Mass is not weight: weight is a pull.", _memory("Mass is weight, basically."))
    assert reply.findings[0] == Finding(
        "contradiction", subject="Mass is not weight", evidence="Mass is weight"
    )
    assert reply.questions[0] == (
        "Earlier you said “Mass is weight”, but now you say “Mass is not weight” — "
        "which one is right, and why?"
    )


def test_asserting_what_an_earlier_turn_denied_is_a_contradiction_too() -> None:
    found = _contradictions(
        "space", "The Moon is a planet that goes around the Earth.", _memory("The Moon isn't a planet.")
    )
    assert found == [
        Finding(
            "contradiction",
            subject="The Moon is a planet that goes around the Earth",
            evidence="The Moon isn't a planet",
        )
    ]


def test_a_verb_denied_with_doesnt_contradicts_the_earlier_plain_verb() -> None:
    found = _contradictions(
        "gravity",
        "Actually heavier objects don't fall faster, they land together.",
        _memory("Heavier objects fall faster than light ones."),
    )
    assert [(f.subject, f.evidence) for f in found] == [
        ("Actually heavier objects don't fall faster", "Heavier objects fall faster than light ones")
    ]


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        ("Plants can make food at night.", "Plants cannot make food at night."),
        ("The ball will fall faster.", "The ball won't fall faster."),
        ("Light carries energy.", "Light doesn't carry energy."),
        ("Sound travels through space.", "Sound does not travel through space."),
    ],
)
def test_can_will_and_does_negations_contradict_their_positive_twins(earlier: str, now: str) -> None:
    found = _contradictions("physics", now, _memory(earlier))
    assert [(f.subject, f.evidence) for f in found] == [(now.rstrip("."), earlier.rstrip("."))]


@pytest.mark.parametrize(
    ("earlier", "now", "subject", "evidence"),
    [
        ("月亮是一颗行星。", "其实月亮不是一颗行星，它是卫星。", "其实月亮不是一颗行星", "月亮是一颗行星"),
        (
            "重的东西掉得更快。",
            "重的东西不会掉得更快，它们同时落地。",
            "重的东西不会掉得更快",
            "重的东西掉得更快",
        ),
        (
            "重的东西不会掉得更快。",
            "我觉得重的东西会掉得更快。",
            "我觉得重的东西会掉得更快",
            "重的东西不会掉得更快",
        ),
        ("植物晚上没有光合作用。", "植物晚上也有光合作用。", "植物晚上也有光合作用", "植物晚上没有光合作用"),
    ],
)
def test_a_chinese_statement_contradicting_an_earlier_turn_is_found(
    earlier: str, now: str, subject: str, evidence: str
) -> None:
    found = _contradictions("万有引力", now, _memory(earlier))
    assert [(f.subject, f.evidence) for f in found] == [(subject, evidence)]


def test_the_chinese_contradiction_question_quotes_both_statements() -> None:
    reply = ask("天文", "月亮不是行星。", _memory("月亮是行星。"))
    assert reply.questions[0] == "你之前说“月亮是行星”，现在又说“月亮不是行星”，到底哪个对呢？为什么？"


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        ("Some people think heavier objects fall faster.", "Heavier objects don't fall faster."),
        ("Plants get light from the sun.", "If plants don't get light, they die."),
        ("It is a force.", "It is not a force."),
        ("The Moon is a satellite.", "The Moon is not a planet."),
        ("有人以为植物晚上有光合作用。", "植物晚上没有光合作用。"),
        ("植物需要阳光。", "如果没有阳光，植物就会死。"),
        ("它是一种力。", "它不是一种力。"),
    ],
)
def test_refuted_beliefs_conditions_pronouns_and_other_predicates_are_not_contradictions(
    earlier: str, now: str
) -> None:
    assert _contradictions("science", now, _memory(earlier)) == []


def test_only_the_learners_turns_count_not_the_tutors() -> None:
    memory = [Turn("user", "Gravity pulls."), Turn("assistant", "Mass is weight, isn't it?")]
    assert _contradictions("gravity", "Mass is not weight.", memory) == []


def test_a_statement_is_not_contradicted_by_itself_without_memory() -> None:
    assert _contradictions("gravity", "Mass is weight. Mass is not weight.", []) == []

"""remember(): the short-term memory grows by one exchange and stays bounded; ask() reads it."""

from __future__ import annotations

import pytest

from domain.tutor import Turn, ask, remember


def _conversation(pairs: int) -> list[Turn]:
    turns = []
    for i in range(pairs):
        turns += [Turn("user", f"explanation {i}"), Turn("assistant", f"question {i}")]
    return turns


def test_remember_appends_the_learners_turn_and_one_turn_with_the_questions() -> None:
    memory = remember([], "Plants eat light.", ["Why?", "How?"], keep_turns=5)
    assert memory == [Turn("user", "Plants eat light."), Turn("assistant", "Why?\nHow?")]


def test_remember_keeps_only_the_last_keep_turns_pairs_dropping_the_oldest() -> None:
    memory = remember(_conversation(4), "explanation 4", ["question 4"], keep_turns=3)
    assert memory == _conversation(5)[4:]
    assert [t.role for t in memory] == ["user", "assistant"] * 3


def test_remember_keeps_everything_while_under_the_bound() -> None:
    assert remember(_conversation(1), "explanation 1", ["question 1"], keep_turns=3) == _conversation(2)


def test_remember_with_keep_turns_zero_keeps_nothing() -> None:
    assert remember(_conversation(2), "x", ["y"], keep_turns=0) == []


def test_remember_bounds_each_role_even_when_the_memory_does_not_alternate() -> None:
    odd = [Turn("assistant", "hello"), Turn("user", "a"), Turn("user", "b"), Turn("assistant", "c")]
    memory = remember(odd, "d", ["e"], keep_turns=2)
    assert memory == [Turn("user", "b"), Turn("assistant", "c"), Turn("user", "d"), Turn("assistant", "e")]
    assert sum(t.role == "user" for t in memory) <= 2


def test_remember_does_not_change_the_memory_it_was_given() -> None:
    memory = _conversation(2)
    remember(memory, "x", ["y"], keep_turns=1)
    assert memory == _conversation(2)


def test_remember_refuses_a_negative_bound() -> None:
    with pytest.raises(ValueError, match="keep_turns"):
        remember([], "x", ["y"], keep_turns=-1)


def test_a_question_already_asked_is_not_asked_again_while_others_remain() -> None:
    topic, text = "cells", "Mitochondria make ATP for the cell."
    first = ask(topic, text)
    assert first.questions == [
        "You mentioned “Mitochondria” — what is that, in words a 12-year-old would understand?",
        "You said “Mitochondria make ATP for the cell” — but why does that happen? What makes it happen?",
        "You mentioned “ATP” — what is that, in words a 12-year-old would understand?",
    ]
    again = ask(topic, text, remember([], text, first.questions[:1], keep_turns=3))
    assert again.questions == first.questions[1:]
    after_all = ask(topic, text, remember([], text, first.questions, keep_turns=3))
    assert after_all.questions == [
        "Could you give me an example of “Mitochondria make ATP for the cell”? "
        "Something I could picture in everyday life?"
    ]


def test_the_fallback_changes_when_it_was_already_asked() -> None:
    first = ask("gravity", "")
    memory = remember([], "", first.questions, keep_turns=3)
    second = ask("gravity", "", memory)
    assert second.questions != first.questions
    assert len(second.questions) == 1

"""The LLM summary's prompt and the reading of the model's answer."""

from __future__ import annotations

import pytest

from domain.consolidation import (
    SessionTurn,
    consolidate_session,
    digest_from_dict,
    digest_to_dict,
    merge_memory,
)
from domain.llm_summary import MAX_TURNS, parse_summary, summary_messages, with_llm_summary

TURNS = [
    SessionTurn("Gravity is a force. Things fall because the Earth pulls them.", ("What is a force?",)),
    SessionTurn("A force is a push or a pull, like when you push a door.", ()),
]


def test_the_transcript_goes_in_one_labelled_message_under_a_system_prompt_naming_the_topic() -> None:
    messages = summary_messages(TURNS, topic="  gravity ", language="en")

    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Topic: gravity." in messages[0]["content"] and "at most 3" in messages[0]["content"]
    assert messages[1]["content"].splitlines() == [
        "Learner: Gravity is a force. Things fall because the Earth pulls them.",
        "Tutor: What is a force?",
        "Learner: A force is a push or a pull, like when you push a door.",
    ]


def test_a_chinese_session_gets_the_chinese_prompt_and_a_long_one_only_its_latest_turns() -> None:
    turns = [SessionTurn(f"第{i}次讲解。") for i in range(MAX_TURNS + 5)]

    system, user = summary_messages(turns, topic="引力", language="zh")

    assert "简体中文" in system["content"] and "引力" in system["content"]
    assert user["content"].splitlines()[0] == "Learner: 第5次讲解。"
    assert len(user["content"].splitlines()) == MAX_TURNS


@pytest.mark.parametrize(
    "answer",
    [
        '{"summary": ["The learner explained gravity as a pull.", "Force stayed vague."]}',
        '["The learner explained gravity as a pull.", "Force stayed vague."]',
        'Here it is:\n```json\n{"summary": ["The learner explained gravity as a pull.", '
        '"Force stayed vague."]}\n```',
        "1. The learner explained gravity as a pull.\n2. Force stayed vague.",
        "- The learner explained gravity as a pull.\n- Force stayed vague.",
        "The learner explained gravity as a pull. Force stayed vague.",
        '{"summary": "The learner explained gravity as a pull. Force stayed vague."}',
    ],
    ids=["json-object", "json-array", "fenced-in-prose", "numbered", "bulleted", "prose", "one-string"],
)
def test_the_summary_is_read_from_whatever_shape_the_model_answers_in(answer: str) -> None:
    assert parse_summary(answer) == ("The learner explained gravity as a pull.", "Force stayed vague.")


def test_empty_duplicate_and_overlong_sentences_are_dropped_and_at_most_the_limit_kept() -> None:
    answer = '{"summary": ["", "One.", "One.", "' + "x" * 600 + '", "Two.", "Three.", "Four."]}'

    assert parse_summary(answer) == ("One.", "Two.", "Three.")
    assert parse_summary("   ") == ()
    assert parse_summary('{"summary": []}') == ()


def test_chinese_prose_is_cut_at_full_width_stops() -> None:
    assert parse_summary("学习者把引力讲成了拉力。力的概念仍然含糊。") == (
        "学习者把引力讲成了拉力。",
        "力的概念仍然含糊。",
    )


def test_the_llm_summary_replaces_only_the_summary_and_survives_the_result_event_and_the_memory() -> None:
    local = consolidate_session(TURNS, topic="gravity", session_id="s-1", user_id="u-1")

    digest = with_llm_summary(local, ["The learner sees gravity as a pull."])
    back = digest_from_dict(digest_to_dict(digest))
    memory = merge_memory(None, back)

    assert local.summary_source == "local" and back.summary_source == "llm"
    assert (back.concepts, back.score, back.open_questions) == (
        local.concepts,
        local.score,
        local.open_questions,
    )
    assert memory["summary"] == ["The learner sees gravity as a pull."]
    assert memory["summary_source"] == "llm"

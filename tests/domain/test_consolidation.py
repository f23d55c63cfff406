"""Memory consolidation: summaries, concepts, open questions and mastery across sessions."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import json

from domain.consolidation import (
    MASTERY_RATE,
    SessionTurn,
    consolidate_session,
    digest_from_dict,
    digest_to_dict,
    merge_memory,
    turns_from_history,
)
from domain.summarise import central_sentences
from domain.tutor import ask
from tests.domain.corpus import by_id


def _session(topic: str, *texts: str) -> list[SessionTurn]:
    """Turns as the service would record them: each explanation with the tutor's real questions."""
    return [SessionTurn(text, tuple(ask(topic, text).questions)) for text in texts]


VAGUE = by_id("en-photosynthesis-vague").text
FOLLOW_UP = (
    "Chlorophyll is the green colouring in leaves that catches light. Because light gives energy, "
    "the plant joins water and carbon dioxide into glucose, a kind of sugar."
)


def test_the_summary_keeps_the_central_sentences_in_order_and_drops_the_aside() -> None:
    sentences = [
        "Gravity is the pull between any two objects.",
        "I had pizza for lunch today.",
        "The Earth is a huge object, so its pull on a ball is strong.",
        "The pull of the Earth keeps the Moon going around the Earth.",
    ]
    assert central_sentences(sentences, 3) == [0, 2, 3]
    assert central_sentences(["我喜欢吃苹果。", "地球的引力把月亮拉住。", "引力让月亮绕着地球转。"], 2) == [
        1,
        2,
    ]


def test_a_term_explained_in_a_later_turn_becomes_an_explained_concept() -> None:
    digest = consolidate_session(
        _session("photosynthesis", VAGUE, FOLLOW_UP), topic="photosynthesis", session_id="s1", user_id="ana"
    )
    status = {c.term.lower(): c.status for c in digest.concepts}
    assert status["chlorophyll"] == "explained"
    assert status["thylakoid"] == "mentioned"
    assert len(digest.summary) == 3
    assert all(s in VAGUE + " " + FOLLOW_UP for s in digest.summary)


def test_a_question_answered_later_is_closed_and_the_last_turns_questions_stay_open() -> None:
    turns = _session("photosynthesis", VAGUE, FOLLOW_UP)
    asked_about_chlorophyll = turns[0].questions[0]
    assert "chlorophyll" in asked_about_chlorophyll
    digest = consolidate_session(turns, topic="photosynthesis", session_id="s1")
    assert asked_about_chlorophyll not in digest.open_questions
    assert set(turns[1].questions) <= set(digest.open_questions)


def test_chinese_sessions_are_consolidated_in_chinese() -> None:
    first = "光合作用就是植物吃阳光。叶子里有叶绿素，它大概能吸收阳光。"
    second = "叶绿素是叶子里的一种绿色色素，它能接住阳光。因为有了阳光的能量，植物把水和二氧化碳变成糖。"
    digest = consolidate_session(_session("光合作用", first, second), topic="光合作用", session_id="z1")
    assert digest.language == "zh"
    assert {c.term: c.status for c in digest.concepts}["叶绿素"] == "explained"
    assert not any("叶绿素" in q and "是什么" in q for q in digest.open_questions)
    assert json.loads(json.dumps(digest_to_dict(digest), ensure_ascii=False))["session_id"] == "z1"


def test_mastery_moves_by_exponential_smoothing_across_sessions() -> None:
    weak = consolidate_session(_session("photosynthesis", VAGUE), topic="photosynthesis", session_id="s1")
    strong_text = by_id("en-photosynthesis-good").text
    strong = consolidate_session(
        _session("photosynthesis", strong_text), topic="photosynthesis", session_id="s2"
    )
    assert strong.score > weak.score + 0.3
    memory = merge_memory(None, weak)
    assert memory["mastery"] == weak.score
    memory = merge_memory(memory, strong)
    assert memory["mastery"] == round(weak.score + MASTERY_RATE * (strong.score - weak.score), 4)
    assert memory["sessions"] == 2
    assert weak.score < memory["mastery"] < strong.score


def test_merging_the_same_session_again_replaces_it_instead_of_counting_it_twice() -> None:
    first = consolidate_session(_session("photosynthesis", VAGUE), topic="photosynthesis", session_id="s1")
    memory = merge_memory(None, first)
    assert merge_memory(memory, first) == memory
    second = consolidate_session(
        _session("photosynthesis", FOLLOW_UP), topic="photosynthesis", session_id="s2", user_id="ana"
    )
    after_second = merge_memory(memory, second)
    grown = consolidate_session(
        _session("photosynthesis", FOLLOW_UP, by_id("en-photosynthesis-good").text),
        topic="photosynthesis",
        session_id="s2",
        user_id="ana",
    )
    regrown = merge_memory(after_second, grown)
    assert regrown == merge_memory(memory, grown)
    assert regrown["sessions"] == 2
    assert {c["term"].lower(): c["sessions"] for c in regrown["concepts"]}["chlorophyll"] == 2


def test_an_open_question_from_an_earlier_session_is_closed_when_a_later_session_answers_it() -> None:
    memory = merge_memory(
        None, consolidate_session(_session("photosynthesis", VAGUE), topic="photosynthesis", session_id="s1")
    )
    chlorophyll = next(q for q in memory["open_questions"] if "chlorophyll" in q)
    later = consolidate_session(
        _session("photosynthesis", FOLLOW_UP), topic="photosynthesis", session_id="s2"
    )
    merged = merge_memory(json.loads(json.dumps(memory)), later)
    assert chlorophyll not in merged["open_questions"]
    assert merged["summaries"][0]["session_id"] == "s1"
    assert merged["summary"] == list(later.summary)


def test_a_digest_read_back_from_its_result_event_merges_exactly_like_the_original() -> None:
    turns = _session("photosynthesis", VAGUE, FOLLOW_UP)
    digest = consolidate_session(turns, topic="photosynthesis", session_id="s-rt", user_id="u-rt")
    # What the memory task receives: the event's JSON digest and, beside it, the explanations.
    payload = json.loads(json.dumps(digest_to_dict(digest), ensure_ascii=False))

    back = digest_from_dict(payload, [t.explanation for t in turns])

    assert back == digest
    assert merge_memory(None, back) == merge_memory(None, digest)


def test_the_explanations_sent_beside_a_digest_are_what_closes_earlier_open_questions() -> None:
    first = consolidate_session(_session("photosynthesis", VAGUE), topic="photosynthesis", session_id="s1")
    second = consolidate_session(
        _session("photosynthesis", FOLLOW_UP), topic="photosynthesis", session_id="s2"
    )
    memory = merge_memory(None, first)
    payload = digest_to_dict(second)

    with_text = merge_memory(memory, digest_from_dict(payload, second.explanations))
    bare = merge_memory(memory, digest_from_dict(payload))

    # The follow-up explains chlorophyll: that question closes only when its text came along.
    chlorophyll = next(q for q in memory["open_questions"] if "“chlorophyll”" in q)
    assert chlorophyll not in with_text["open_questions"]
    assert set(bare["open_questions"]) >= set(memory["open_questions"])


def test_a_digest_published_before_summary_sources_existed_reads_as_local() -> None:
    payload = digest_to_dict(
        consolidate_session(_session("gravity", FOLLOW_UP), topic="gravity", session_id="s")
    )
    del payload["summary_source"]

    assert digest_from_dict(payload).summary_source == "local"


def test_a_stored_conversation_becomes_turns_with_the_tutor_replies_that_followed_each() -> None:
    history = [
        {"role": "system", "content": "You are a tutor."},
        {"role": "assistant", "content": "Explain photosynthesis in your own words."},
        {"role": "user", "content": "Plants make food from light."},
        {"role": "assistant", "content": "What food, exactly?"},
        {"role": "assistant", "content": "Where does the light go?"},
        {"role": "user", "content": "   "},
        {"role": "user", "content": "Sugar, made from water and air."},
        {"role": "assistant", "content": ""},
    ]

    assert turns_from_history(history) == [
        SessionTurn("Plants make food from light.", ("What food, exactly?", "Where does the light go?")),
        SessionTurn("Sugar, made from water and air.", ()),
    ]
    assert turns_from_history([]) == []


def test_a_memorize_request_consolidates_like_the_same_session_told_turn_by_turn() -> None:
    turns = _session("photosynthesis", VAGUE, FOLLOW_UP)
    history = [
        line
        for t in turns
        for line in [
            {"role": "user", "content": t.explanation},
            *({"role": "assistant", "content": q} for q in t.questions),
        ]
    ]

    from_history = consolidate_session(turns_from_history(history), topic="photosynthesis", session_id="s")

    assert from_history == consolidate_session(turns, topic="photosynthesis", session_id="s")

"""The per-turn quality report on real-looking English and Chinese explanations."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import json

import pytest

from domain.analysis import WEIGHTS, analyse, clarity_score
from tests.domain.corpus import Explanation, by_id, load, pairs

CORPUS = load()


@pytest.mark.parametrize("item", CORPUS, ids=lambda e: e.id)
def test_the_report_finds_what_each_corpus_explanation_is_noted_for(item: Explanation) -> None:
    report = analyse(item.text, topic=item.topic)
    assert report.language == item.language
    assert report.has_example is item.has_example
    assert (report.causal_links > 0) is item.has_cause
    assert {h.lower() for h in item.hedges} <= {h.lower() for h in report.hedges}
    assert set(item.unexplained) <= set(report.unexplained_terms)


@pytest.mark.parametrize(("good", "poor"), pairs(), ids=lambda e: e.id)
def test_a_clear_explanation_scores_well_above_a_vague_one_on_the_same_topic(
    good: Explanation, poor: Explanation
) -> None:
    clear, vague = analyse(good.text, topic=good.topic), analyse(poor.text, topic=poor.topic)
    assert clear.clarity >= 60
    assert vague.clarity < 45
    assert clear.clarity - vague.clarity >= 25


def test_the_clarity_score_is_the_weighted_mean_of_its_parts() -> None:
    report = analyse(by_id("en-gravity-jargon").text, topic="gravity")
    parts = report.clarity_parts
    assert set(parts) == set(WEIGHTS) - {"answered"}
    expected = sum(WEIGHTS[k] * v for k, v in parts.items()) / sum(WEIGHTS[k] for k in parts)
    assert report.clarity == pytest.approx(expected, abs=0.05)
    assert clarity_score({"example": 100.0, "jargon": 0.0}) == pytest.approx(37.5)


def test_english_readability_counts_words_and_chinese_counts_characters() -> None:
    en = analyse("Plants eat light. They make sugar.", topic="photosynthesis")
    zh = analyse("植物吃阳光。植物做糖。", topic="光合作用")
    assert en.avg_sentence_length == 3.0
    assert zh.avg_sentence_length == 4.5
    long_winded = analyse(by_id("en-vaccine-jargon").text, topic="vaccines")
    assert long_winded.readability < en.readability


def test_answered_questions_count_only_when_the_term_asked_about_is_now_explained() -> None:
    asked = ["You mentioned “chlorophyll” — what is that, in words a 12-year-old would understand?"]
    repeated = analyse(
        "The chlorophyll absorbs light in the leaves.", topic="photosynthesis", previous_questions=asked
    )
    answered = analyse(
        "Chlorophyll is the green colouring in leaves that catches light.",
        topic="photosynthesis",
        previous_questions=asked,
    )
    assert repeated.answered_share == 0.0
    assert answered.answered_share == 1.0
    assert answered.questions[0].key_terms == ("chlorophyll",)
    assert answered.clarity_parts["answered"] == 100.0


def test_chinese_questions_are_matched_on_the_quoted_term() -> None:
    asked = [
        "你提到了“叶绿素”，能用小学生也能听懂的话解释一下它是什么吗？",
        "你说“它大概能吸收阳光”，这里的“大概”具体是指什么呢？",
    ]
    report = analyse(
        "叶绿素是叶子里的一种绿色色素，它能吸收阳光。", topic="光合作用", previous_questions=asked
    )
    assert [q.answered for q in report.questions] == [True, True]
    off_topic = analyse("我今天吃了米饭。", topic="光合作用", previous_questions=asked)
    assert off_topic.answered_share == 0.0


def test_a_term_explained_in_an_earlier_turn_is_not_counted_as_jargon() -> None:
    text = "The chlorophyll absorbs the light."
    alone = analyse(text, topic="photosynthesis")
    with_history = analyse(
        text, topic="photosynthesis", earlier_explanations=["Chlorophyll is the green colouring in leaves."]
    )
    assert "chlorophyll" in alone.unexplained_terms
    assert "chlorophyll" not in with_history.unexplained_terms
    assert with_history.clarity > alone.clarity


def test_the_report_is_json_serialisable_and_deterministic() -> None:
    item = by_id("zh-photosynthesis-vague")
    first = analyse(item.text, topic=item.topic, previous_questions=["你说“光子”是什么？"])
    data = json.loads(json.dumps(first.to_dict(), ensure_ascii=False))
    assert data["hedge_count"] == len(data["hedges"]) == 2
    assert data["questions"][0]["key_terms"] == ["光子"]
    assert first == analyse(item.text, topic=item.topic, previous_questions=["你说“光子”是什么？"])


def test_an_explanation_without_words_scores_zero() -> None:
    report = analyse("?!", topic="gravity", previous_questions=["Why?"])
    assert report.word_count == 0
    assert report.clarity == 0.0

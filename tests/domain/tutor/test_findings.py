"""Hedges, missing examples and missing causes, and how their questions are phrased."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import pytest

from domain.tutor import ask


def _of(kind: str, topic: str, text: str) -> list[tuple[str, str]]:
    return [(f.subject, f.evidence) for f in ask(topic, text).findings if f.kind == kind]


@pytest.mark.parametrize(
    ("text", "hedge"),
    [
        ("Gravity kind of pulls things down.", "kind of"),
        ("Gravity sort of pulls things down.", "sort of"),
        ("Gravity basically pulls things down.", "basically"),
        ("Gravity somehow pulls things down.", "somehow"),
        ("Gravity pulls rocks and stuff down.", "stuff"),
        ("Gravity pulls rocks, apples and things like that.", "things like that"),
        ("I think gravity pulls things down.", "I think"),
        ("Maybe gravity pulls things down.", "Maybe"),
        ("Gravity probably pulls things down.", "probably"),
        ("Gravity more or less pulls things down.", "more or less"),
        ("Gravity pulls rocks, apples, etc.", "etc."),
    ],
)
def test_each_english_hedge_is_a_vague_finding(text: str, hedge: str) -> None:
    found = _of("vague", "gravity", text)
    assert [evidence for _, evidence in found] == [hedge]


@pytest.mark.parametrize(
    "hedge", ["大概", "可能", "好像", "差不多", "之类的", "什么的", "反正", "某种", "一些东西", "应该是"]
)
def test_each_chinese_hedge_is_a_vague_finding(hedge: str) -> None:
    found = _of("vague", "万有引力", f"地球{hedge}会把苹果往下拉。")
    assert [evidence for _, evidence in found] == [hedge]


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("sugar", "Glucose is a kind of sugar that plants make."),
        ("sugar", "This sort of sugar is sweet."),
        ("万有引力", "苹果不可能往天上飞。"),
        ("万有引力", "月亮就好像一个被绳子拴着的球。"),
        ("细胞", "线粒体是做什么的呢？"),
    ],
)
def test_words_that_look_like_hedges_but_do_not_hedge_are_not_vague(topic: str, text: str) -> None:
    assert _of("vague", topic, text) == []


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (
            "Gravity somehow pulls things down.",
            "You said “Gravity somehow pulls things down” — how does that actually happen, step by step?",
        ),
        (
            "Gravity pulls rocks and stuff down.",
            "You said “Gravity pulls rocks and stuff down” — what else is in that list? "
            "Could you name the things you mean?",
        ),
        (
            "Maybe gravity pulls things down.",
            "You said “Maybe gravity pulls things down” — are you sure? "
            "How could we check whether it's true?",
        ),
        (
            "地球大概会把苹果往下拉。",
            "你说“地球大概会把苹果往下拉”，你确定吗？我们怎么才能验证它对不对呢？",
        ),
        (
            "地球差不多会把苹果往下拉。",
            "你说“地球差不多会把苹果往下拉”，这里的“差不多”具体是指什么呢？",
        ),
        (
            "地球会把苹果、石头什么的往下拉。",
            "你说“地球会把苹果、石头什么的往下拉”，还包括哪些呢？能具体说说吗？",
        ),
    ],
)
def test_a_hedge_is_asked_about_in_the_way_its_kind_calls_for(text: str, question: str) -> None:
    assert ask("gravity", text).questions[0] == question


def test_a_long_clause_is_quoted_around_the_hedge_with_an_ellipsis() -> None:
    text = (
        "When you drop a ball from a very tall building on a windy day it kind of speeds up as it goes down."
    )
    (subject, _), *_ = _of("vague", "gravity", text)
    assert subject == "…a windy day it kind of speeds up as it goes down"


def test_an_explanation_without_any_example_is_asked_for_one_about_its_first_claim() -> None:
    text = "Gravity pulls everything towards the Earth. That is why we do not float away."
    assert _of("no_example", "gravity", text) == [
        ("Gravity pulls everything towards the Earth", "Gravity pulls everything towards the Earth.")
    ]
    assert ask("gravity", text).questions == [
        "Could you give me an example of “Gravity pulls everything towards the Earth”? "
        "Something I could picture in everyday life?"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Gravity pulls things down, for example an apple falling from a tree.",
        "Gravity pulls things down, like when you drop your phone.",
        "Imagine dropping a ball: gravity pulls it down.",
        "Heavy things such as rocks are pulled down by gravity.",
    ],
)
def test_an_explanation_with_an_example_is_not_asked_for_one(text: str) -> None:
    assert _of("no_example", "gravity", text) == []


@pytest.mark.parametrize(
    "text", ["重力把东西往下拉，比如苹果从树上掉下来。", "举个例子，苹果会从树上掉下来。"]
)
def test_a_chinese_explanation_with_an_example_is_not_asked_for_one(text: str) -> None:
    assert _of("no_example", "重力", text) == []


def test_a_change_stated_without_a_cause_is_asked_why() -> None:
    text = "Ice melts into water in the sun. For example, ice cream on a hot day."
    assert _of("no_cause", "melting", text) == [
        ("Ice melts into water in the sun", "Ice melts into water in the sun.")
    ]
    assert ask("melting", text).questions == [
        "You said “Ice melts into water in the sun” — but why does that happen? What makes it happen?"
    ]


def test_an_explanation_that_never_says_why_is_asked_why_about_its_first_statement() -> None:
    text = "Photosynthesis is what plants do. Plants are green and live in the garden."
    assert _of("no_cause", "Photosynthesis", text) == [
        ("Plants are green and live in the garden", "Plants are green and live in the garden.")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The water turns into vapour because the sun heats it.",
        "The water turns into vapour. That's because the sun heats it.",
        "The sun heats the water, so it turns into vapour.",
    ],
)
def test_a_change_with_its_cause_nearby_is_not_asked_why(text: str) -> None:
    assert _of("no_cause", "evaporation", text) == []


def test_a_definition_of_the_topic_is_not_asked_why() -> None:
    found = _of(
        "no_cause", "Photosynthesis", "Photosynthesis is how plants make food. For example, grass grows."
    )
    assert found == [("For example, grass grows", "For example, grass grows.")]


def test_a_chinese_change_without_a_cause_is_asked_why() -> None:
    reply = ask("蒸发", "太阳出来以后，水慢慢变成水蒸气。比如地上的水坑会变干。")
    assert "你说“太阳出来以后，水慢慢变成水蒸气”，可是为什么会这样呢？是什么导致的？" in reply.questions

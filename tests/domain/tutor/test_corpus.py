"""The tutor's questions on each explanation of the fixture corpus, word for word."""

# ruff: noqa: RUF001 - the expected questions are Chinese text with typographic quotes.

from __future__ import annotations

import pytest

from domain.tutor import ask
from tests.domain.tutor.samples import load, names

EXPECTED = {
    "en_photosynthesis": [
        "You mentioned “glucose” — what is that, in words a 12-year-old would understand?",
        "You said “and it kind of catches sunlight” — what exactly do you mean by “kind of” there?",
        "You said “Then the plant takes in carbon dioxide from the air and water…” — "
        "but why does that happen? What makes it happen?",
    ],
    "en_photosynthesis_explained": [
        "You said “Plants make sugar out of air and water, and the energy for…” — "
        "but why does that happen? What makes it happen?",
    ],
    "en_gravity": [
        "You mentioned “orbit” — what is that, in words a 12-year-old would understand?",
        "You said “I think heavier objects fall faster than light ones” — are you sure? "
        "How could we check whether it's true?",
        "Could you give me an example of “Gravity is the force that pulls things towards each other”? "
        "Something I could picture in everyday life?",
    ],
    "en_tcp_handshake": [
        "You mentioned “SYN” — what is that, in words a 12-year-old would understand?",
        "You said “and that stuff is basically used to keep the packets in order” — "
        "what else is in that list? Could you name the things you mean?",
        "You said “The client sends a SYN to the server” — but why does that happen? What makes it happen?",
    ],
    "en_compound_interest": [
        "You mentioned “APR” — what is that, in words a 12-year-old would understand?",
        "You said “The APR is probably different from the APY somehow” — are you sure? "
        "How could we check whether it's true?",
        "You mentioned “APY” — what is that, in words a 12-year-old would understand?",
    ],
    "zh_photosynthesis": [
        "你提到了“葡萄糖”，能用小学生也能听懂的话解释一下它是什么吗？",
        "你说“它大概能吸收阳光”，你确定吗？我们怎么才能验证它对不对呢？",
        "你说“然后植物把空气里的二氧化碳和根吸上来的水…”，可是为什么会这样呢？是什么导致的？",
    ],
    "zh_photosynthesis_explained": [
        "能用一个生活中的例子或者比喻，给我讲讲“光合作用”吗？",
    ],
    "zh_gravitation": [
        "你提到了“引力常数”，能用小学生也能听懂的话解释一下它是什么吗？",
        "你说“我觉得重的东西会掉得更快”，你确定吗？我们怎么才能验证它对不对呢？",
        "能举个例子说明“万有引力就是所有有质量的物体之间互相吸引…”吗？最好是生活中能看到的。",
    ],
    "zh_compound_interest": [
        "你提到了“利滚利”，能用小学生也能听懂的话解释一下它是什么吗？",
        "你说“年化收益率和名义利率好像不一样”，你确定吗？我们怎么才能验证它对不对呢？",
        "你提到了“本金”，能用小学生也能听懂的话解释一下它是什么吗？",
    ],
    "zh_tcp_handshake": [
        "你提到了“客户端”，能用小学生也能听懂的话解释一下它是什么吗？",
        "你说“用来保证数据包的顺序之类的”，还包括哪些呢？能具体说说吗？",
        "你说“两台电脑用TCP通信之前要先握手”，可是为什么会这样呢？是什么导致的？",
    ],
}


def test_every_corpus_file_has_its_expected_questions_written_down() -> None:
    assert sorted(EXPECTED) == sorted(names("en") + names("zh"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_explanation_gets_exactly_the_expected_questions(name: str) -> None:
    sample = load(name)
    reply = ask(sample.topic, sample.text)
    assert reply.language == name[:2]
    assert reply.questions == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "terms"),
    [
        ("en_photosynthesis", ["glucose", "chlorophyll", "carbon dioxide", "starch"]),
        ("en_tcp_handshake", ["SYN", "SYN-ACK", "ACK", "sequence number", "packets"]),
        ("en_gravity", ["orbit", "equation", "gravitational constant"]),
        ("zh_photosynthesis", ["葡萄糖", "叶绿素", "淀粉", "气孔"]),
        ("zh_tcp_handshake", ["客户端", "SYN", "SYN-ACK", "ACK", "序列号", "数据包"]),
        ("zh_compound_interest", ["利滚利", "本金", "年化收益率"]),
    ],
)
def test_unexplained_terms_are_found_most_used_first_then_in_order_of_use(
    name: str, terms: list[str]
) -> None:
    sample = load(name)
    found = [f.subject for f in ask(sample.topic, sample.text).findings if f.kind == "unexplained_term"]
    assert found == terms


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("en_photosynthesis", {"unexplained_term", "vague", "no_cause", "no_example"}),
        ("en_compound_interest", {"unexplained_term", "vague"}),
        ("zh_photosynthesis", {"unexplained_term", "vague", "no_cause", "no_example"}),
        ("zh_compound_interest", {"unexplained_term", "vague"}),
    ],
)
def test_each_explanation_shows_only_the_kinds_of_gap_it_really_has(name: str, kinds: set[str]) -> None:
    sample = load(name)
    assert {f.kind for f in ask(sample.topic, sample.text).findings} == kinds


@pytest.mark.parametrize("name", ["en_photosynthesis_explained", "zh_photosynthesis_explained"])
def test_terms_the_learner_explains_are_not_asked_about(name: str) -> None:
    sample = load(name)
    reply = ask(sample.topic, sample.text)
    assert [f for f in reply.findings if f.kind == "unexplained_term"] == []
    asked = " ".join(reply.questions)
    for explained in ("chlorophyll", "chloroplast", "pigment", "叶绿素", "叶绿体"):
        assert explained not in asked


@pytest.mark.parametrize("name", names("en") + names("zh"))
def test_every_question_quotes_the_words_it_is_about(name: str) -> None:
    sample = load(name)
    reply = ask(sample.topic, sample.text, max_questions=10)
    for finding, question in zip(reply.findings, reply.questions, strict=False):
        assert f"“{finding.subject}”" in question

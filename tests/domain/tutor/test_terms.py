"""Unexplained terms: what counts as jargon, what counts as explained, and the topic itself."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import pytest

from domain.tutor import Turn, ask


def _terms(topic: str, text: str, memory: list[Turn] | None = None) -> list[str]:
    return [f.subject for f in ask(topic, text, memory or []).findings if f.kind == "unexplained_term"]


def test_a_rare_word_is_asked_about_with_the_students_question() -> None:
    reply = ask("cells", "Every cell has mitochondria inside it, and they make energy for the cell.")
    assert reply.questions[0] == (
        "You mentioned “mitochondria” — what is that, in words a 12-year-old would understand?"
    )


def test_the_chinese_question_about_a_term_reads_as_a_curious_student() -> None:
    reply = ask("细胞", "每个细胞里面都有线粒体，线粒体会给细胞提供能量。")
    assert reply.questions[0] == "你提到了“线粒体”，能用小学生也能听懂的话解释一下它是什么吗？"


def test_common_words_and_their_inflections_are_not_jargon() -> None:
    assert _terms("falling", "Heavier balls pulled harder when they dropped from the table.") == []


def test_acronyms_are_terms_even_when_their_letters_spell_a_common_word() -> None:
    assert _terms("cells", "Cells copy their DNA and use ATP to do it.") == ["DNA", "ATP"]


def test_everyday_acronyms_and_shouting_are_not_terms() -> None:
    assert _terms("tv", "I watched it on TV and it was SO cool to see how it works.") == []


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Plants breathe in carbon dioxide through their leaves.", "carbon dioxide"),
        ("A rolling ball has kinetic energy while it moves.", "kinetic energy"),
        ("Inside the leaf the Calvin cycle builds sugar.", "Calvin cycle"),
        ("Newton put the gravitational constant into his formula.", "gravitational constant"),
    ],
)
def test_multi_word_terms_are_asked_about_as_one_term(text: str, term: str) -> None:
    assert _terms("science", text)[0] == term


def test_a_rare_word_followed_by_a_verb_is_not_glued_into_a_compound() -> None:
    assert _terms("light", "In the leaf chlorophyll absorbs light.") == ["chlorophyll"]


def test_a_name_in_mid_sentence_is_not_asked_about_as_jargon() -> None:
    assert _terms("gravity", "The apple story is about Fibonacci and an apple tree.") == []


@pytest.mark.parametrize(
    "text",
    [
        "ATP is a molecule that carries energy around the cell.",
        "ATP means the cell's energy money.",
        "ATP stands for adenosine triphosphate.",
        "Cells run on ATP, which works like a rechargeable battery.",
        "Cells run on ATP (the energy molecule).",
        "Cells run on ATP, a tiny battery.",
        "Cells run on a molecule called ATP.",
        "Cells run on a molecule known as ATP.",
        "ATP: the little battery every cell uses.",
    ],
)
def test_a_term_explained_in_the_text_is_not_asked_about(text: str) -> None:
    assert "ATP" not in _terms("cells", text)


@pytest.mark.parametrize(
    "text",
    [
        "ATP is stored in the cell.",
        "ATP is probably important for cells.",
        "ATP is not food.",
    ],
)
def test_saying_something_about_a_term_is_not_explaining_it(text: str) -> None:
    assert _terms("cells", text) == ["ATP"]


@pytest.mark.parametrize(
    "text",
    [
        "线粒体是细胞里的发电站，它会产生能量。",
        "线粒体就是细胞的能量工厂。",
        "线粒体，也就是细胞的能量工厂，会产生能量。",
        "线粒体指的是细胞里产生能量的小东西。",
        "线粒体意思是细胞里的发电站。",
        "线粒体（细胞的能量工厂）会产生能量。",
        "细胞里有一种叫做线粒体的东西，会产生能量。",
    ],
)
def test_a_chinese_term_explained_with_shi_zhi_or_brackets_is_not_asked_about(text: str) -> None:
    assert "线粒体" not in _terms("细胞", text)


def test_a_term_explained_in_an_earlier_turn_is_not_asked_about_again() -> None:
    memory = [
        Turn("user", "Chlorophyll is the green stuff in leaves that catches light."),
        Turn("assistant", "What does the plant do with the light?"),
    ]
    assert _terms("photosynthesis", "The chlorophyll passes the energy on to make sugar.", memory) == []
    assert _terms("photosynthesis", "The chlorophyll passes the energy on to make sugar.") == ["chlorophyll"]


def test_a_chinese_term_explained_in_an_earlier_turn_is_not_asked_about_again() -> None:
    memory = [Turn("user", "叶绿素是叶子里绿色的东西，能抓住阳光。"), Turn("assistant", "然后呢？")]
    assert "叶绿素" not in _terms("光合作用", "叶绿素把能量交给叶子去做糖。", memory)
    assert "叶绿素" in _terms("光合作用", "叶绿素把能量交给叶子去做糖。")


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("Photosynthesis", "Photosynthesis happens in the leaves, and photosynthetic cells are green."),
        ("gravity", "Gravitational pull keeps us on the ground."),
        ("TCP handshake", "The TCP three-way handshake opens a connection."),
        ("光合作用", "光合作用发生在叶子里。"),
        ("万有引力", "万有引力定律是牛顿发现的。"),
        ("TCP三次握手", "TCP三次握手是为了建立连接。"),
    ],
)
def test_the_topic_itself_is_never_asked_about_as_a_term(topic: str, text: str) -> None:
    assert _terms(topic, text) == []


def test_a_chinese_noun_compound_is_asked_about_as_one_term() -> None:
    assert _terms("光合作用", "暗反应也叫卡尔文循环。")[-1] == "卡尔文循环"


def test_english_jargon_inside_a_chinese_explanation_is_asked_about_in_chinese() -> None:
    reply = ask("细胞", "细胞需要ATP才能干活。")
    assert reply.language == "zh"
    assert reply.questions[0] == "你提到了“ATP”，能用小学生也能听懂的话解释一下它是什么吗？"


def test_a_term_used_several_times_is_asked_about_before_one_used_once() -> None:
    text = "Enzymes speed things up. The ribosome builds enzymes, and enzymes also break food down."
    assert _terms("cells", text)[:2] == ["Enzymes", "ribosome"]

"""Language detection: the questions come back in the language the learner writes in."""

# ruff: noqa: RUF001 - Chinese text and typographic quotes are the data under test.

from __future__ import annotations

import pytest

from domain.tutor import ask, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Plants make food from sunlight.", "en"),
        ("植物利用阳光制造养分。", "zh"),
        ("植物利用陽光製造養分。", "zh"),
        ("我觉得 photosynthesis 就是植物用阳光做饭", "zh"),
        ("TCP三次握手就是SYN、SYN-ACK、ACK", "zh"),
        ("In Chinese photosynthesis is called 光合作用, and that is the word my teacher used.", "en"),
        ("ATP", "en"),
        ("", "en"),
        ("123 + 456 = 579", "en"),
    ],
)
def test_the_language_is_the_one_most_of_the_text_is_written_in(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_a_chinese_explanation_with_english_jargon_gets_chinese_questions() -> None:
    reply = ask("TCP handshake", "客户端先发SYN，服务器回SYN-ACK，然后客户端发ACK，连接就建立了。")
    assert reply.language == "zh"
    assert all("“" in q and "”" in q for q in reply.questions)
    assert not any(q.startswith(("You", "Could", "Earlier")) for q in reply.questions)


def test_an_explanation_without_words_takes_the_language_of_the_topic() -> None:
    assert ask("光合作用", "...").language == "zh"
    assert ask("photosynthesis", "。。。").language == "en"

# ruff: noqa: RUF001 - the Chinese prompt and full-width punctuation below are meant to be full-width.
"""The session summary asked of an LLM: the prompt, and reading its answer back.

The local extractive summary can only quote the learner (TextRank picks their
most central sentences); a model can say in a few plain sentences what the
learner showed they understand and where they were unsure, which is what the
learner's long-term memory is for. Only the summary is replaced: concepts,
open questions and the mastery score stay the local engine's, because they
are counted and compared across sessions and must not move with a model's
wording. Pure: messages in, text out; the worker makes the call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace

from domain.consolidation import SUMMARY_SENTENCES, SessionDigest, SessionTurn

# Bounds the prompt's cost: the latest turns win, each cut to this many characters.
MAX_TURNS = 20
MAX_TURN_CHARS = 2_000
# A "sentence" longer than this is not one: the model ignored the format.
MAX_SENTENCE_CHARS = 500

PROMPTS = {
    "en": (
        "You summarise a learning session that used the Feynman technique: a learner explained "
        "the topic in plain words and a tutor asked probing questions. Write at most {n} short "
        "sentences, in the third person, saying what the learner understood, what they explained "
        "well, and what stayed vague or wrong. Do not invent facts the learner did not state. "
        "Topic: {topic}.\n"
        'Reply with ONLY a JSON object: {{"summary": ["...", "..."]}}.'
    ),
    "zh": (
        "你负责总结一次费曼学习法的学习过程：学习者用浅白的话讲解主题，导师提出追问。"
        "用简体中文写最多 {n} 个简短的句子，以第三人称说明学习者理解了什么、哪些讲得清楚、"
        "哪些仍然含糊或有误。不要编造学习者没有说过的内容。主题：{topic}。\n"
        '只回复一个 JSON 对象：{{"summary": ["……", "……"]}}。'
    ),
}

_LIST_ITEM = re.compile(r"^\s*(?:\d+\s*[.)、]|[-*•])\s*(?P<item>.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def summary_messages(
    turns: Sequence[SessionTurn], *, topic: str, language: str, sentences: int = SUMMARY_SENTENCES
) -> list[dict[str, str]]:
    """The chat messages asking for a summary of ``turns`` (oldest first).

    The transcript goes in one ``user`` message, each line labelled, rather
    than as alternating roles: the model is to read a conversation, not to
    continue it as the tutor.
    """
    lang = "zh" if language == "zh" else "en"
    lines = []
    for turn in list(turns)[-MAX_TURNS:]:
        lines.append(f"Learner: {turn.explanation[:MAX_TURN_CHARS]}")
        lines.extend(f"Tutor: {q[:MAX_TURN_CHARS]}" for q in turn.questions)
    return [
        {"role": "system", "content": PROMPTS[lang].format(n=sentences, topic=topic.strip())},
        {"role": "user", "content": "\n".join(lines)},
    ]


def parse_summary(text: str, *, limit: int = SUMMARY_SENTENCES) -> tuple[str, ...]:
    """The summary sentences in a model's answer, at most ``limit``; ``()`` when it holds none.

    Read leniently, in order: the answer as JSON (``{"summary": [...]}``, a
    bare array, or ``{"summary": "one text"}``), the first ``{...}`` or
    ``[...]`` inside prose or a code fence, list-shaped lines, and finally the
    plain text cut into sentences. Empty, duplicate and overlong items go.
    """
    body = text.strip()
    items = _json_items(body)
    for opening, closing in (("{", "}"), ("[", "]")):
        if items is None and opening in body and closing in body:
            items = _json_items(body[body.index(opening) : body.rindex(closing) + 1])
    if items is None:
        lines = [line for line in body.splitlines() if line.strip() and not line.strip().startswith("```")]
        items = [m.group("item") for m in map(_LIST_ITEM.match, lines) if m]
        if not items:
            items = [s for line in lines for s in _SENTENCE_END.split(line.strip())]
    out: list[str] = []
    for item in items:
        sentence = " ".join(item.split()).strip("\"'")
        if sentence and len(sentence) <= MAX_SENTENCE_CHARS and sentence not in out:
            out.append(sentence)
        if len(out) >= limit:
            break
    return tuple(out)


def _json_items(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict):
        value = value.get("summary")
    if isinstance(value, str):
        return [s for s in _SENTENCE_END.split(value.strip()) if s]
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str)]


def with_llm_summary(digest: SessionDigest, summary: Sequence[str]) -> SessionDigest:
    """The digest with the model's summary in place of the extractive one, marked as such."""
    return replace(digest, summary=tuple(summary), summary_source="llm")

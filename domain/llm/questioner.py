# ruff: noqa: RUF001, RUF003 - the Chinese prompt and CJK list markers below are meant to be full-width.
"""Probing questions from the LLM backend, with the local tutor as the safety net.

The tutor's reply is on the learner's critical path, so the LLM is an
improvement, never a dependency: :func:`ask_with_fallback` returns the local
tutor's questions whenever the backend fails, overruns its deadline or answers
something that is not a list of questions. Every call the provider answered is
metered through ``on_usage`` (it may be billed even when unusable); calls that
got no answer, or only an error status, are not (nothing was generated).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from domain.llm.client import ChatCompleter, Completion, Usage
from domain.llm.errors import LlmError
from domain.llm.usage import UsageRecord

log = logging.getLogger(__name__)

Language = Literal["en", "zh"]
Source = Literal["llm", "local"]

SYSTEM_PROMPTS: dict[Language, str] = {
    "en": (
        "You are a curious, bright student listening to someone explain a topic with the Feynman "
        "technique: they must explain it in plain words, as if to a beginner. Your job is to find the "
        "gaps. Ask up to {n} short, concrete, probing questions about their latest explanation: "
        "where they used jargon without defining it, skipped a step, gave no example, or said "
        "something vague or wrong. Do not repeat questions already asked, do not answer them, "
        "do not praise. Topic: {topic}.\n"
        'Reply with ONLY a JSON array of strings, e.g. ["Why ...?", "What happens if ...?"].'
    ),
    "zh": (
        "你是一位好奇、聪明的学生，正在听别人用费曼学习法讲解一个主题：他们必须用浅白的话讲清楚，"
        "就像讲给初学者听。你的任务是找出讲解中的漏洞。针对他们最新的讲解，提出最多 {n} 个简短、"
        "具体、有追问力度的问题：哪里用了术语却没解释、跳过了步骤、没有举例，或者说得含糊甚至有误。"
        "不要重复已经问过的问题，不要自己回答，不要夸奖。主题：{topic}。\n"
        '只用简体中文提问，并且只回复一个由字符串组成的 JSON 数组，例如 ["为什么……？", "如果……会怎样？"]。'
    ),
}

# "1." "2)" "3、" "(1)" "（2）" "一、" "第1个问题：" "- " "• " "Q1:" at a line start: the list shapes models
# fall back to when they ignore "JSON only".
_LIST_ITEM = re.compile(
    r"^\s*(?:[(（]?\d+\s*[.)）．、:：]|[一二三四五六七八九十]+\s*[、.．]|[-*•·]|Q\d+\s*[:：.)]"
    r"|第\s*[\d一二三四五六七八九十]+\s*(?:个问题|个|题|问)?\s*[:：、.．])\s*(?P<q>.+)$",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)
_QUOTES = "\"'“”‘’「」『』`"


@dataclass(frozen=True, slots=True)
class LlmQuestions:
    """What the LLM asked, parsed, with the completion it came from (for metering and debugging)."""

    questions: list[str]
    completion: Completion


@dataclass(frozen=True, slots=True)
class QuestionsResult:
    """The questions to show, where they came from, and why the LLM was not used (if it was not)."""

    questions: list[str]
    source: Source
    error: str | None = None


def normalise_language(language: str | None) -> Language:
    """``zh``, ``zh-CN``, ``zh_Hans`` ... → ``zh``; anything else → ``en`` (the prompts we have)."""
    return "zh" if language and language.lower().replace("_", "-").split("-")[0] == "zh" else "en"


def pseudonym(user_id: str) -> str:
    """A stable stand-in for a user id in OpenAI's ``user`` field: abuse tracking without the real id."""
    return "u-" + hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:32]


def parse_questions(text: str, *, limit: int = 3, max_chars: int = 1000) -> list[str]:
    """The questions in a model's reply, at most ``limit``; ``[]`` when it holds none.

    Tried in order: the whole reply as JSON (an array of strings, or an object
    with a ``questions`` array — what "JSON mode" models tend to send); the
    first ``[...]`` inside it (prose around the array); list-shaped lines
    (``1.``, ``2)``, ``3、``, ``-``); lines ending in a question mark. Items are
    stripped of whitespace and quotes; empty, duplicate and overlong items
    (over ``max_chars``, which would not fit a ``chat.turn`` either) are dropped.
    """
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group("body").strip()
    items = _json_items(body)
    if items is None and "[" in body and "]" in body:
        items = _json_items(body[body.index("[") : body.rindex("]") + 1])
    if items is None:
        lines = [line for line in body.splitlines() if line.strip()]
        items = [m.group("q") for m in map(_LIST_ITEM.match, lines) if m]
        if not items:
            items = [line for line in lines if line.rstrip().endswith(("?", "？"))]
    questions: list[str] = []
    for item in items:
        question = item.strip().strip(_QUOTES).strip()
        if question and len(question) <= max_chars and question not in questions:
            questions.append(question)
        if len(questions) >= limit:
            break
    return questions


def _json_items(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict):
        value = value.get("questions")
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str)]


class LlmQuestioner:
    """Turns a learner's explanation into up to ``max_questions`` probing questions via a chat backend."""

    def __init__(
        self,
        client: ChatCompleter,
        *,
        max_questions: int = 3,
        max_memory_turns: int = 10,
        max_content_chars: int = 4000,
        max_tokens: int = 400,
        temperature: float = 0.4,
    ) -> None:
        self.client = client
        self.max_questions = max_questions
        self.max_memory_turns = max_memory_turns
        self.max_content_chars = max_content_chars
        self.max_tokens = max_tokens
        self.temperature = temperature

    def build_messages(
        self, topic: str, explanation: str, memory: Sequence[tuple[str, str]], language: str = "en"
    ) -> list[dict[str, str]]:
        """System prompt, the recent conversation, then the explanation to question.

        Memory ``system`` entries are dropped: stored conversation is user-influenced
        data and must not gain the authority of the system prompt. Other roles
        map to ``assistant`` (the tutor's past questions, so the model does not
        repeat them) or ``user``. Long entries are cut to bound the prompt's cost.
        """
        lang = normalise_language(language)
        system = SYSTEM_PROMPTS[lang].format(n=self.max_questions, topic=topic.strip())
        messages = [{"role": "system", "content": system}]
        recent = list(memory)[-self.max_memory_turns :] if self.max_memory_turns > 0 else []
        for role, content in recent:
            if role == "system" or not content.strip():
                continue
            mapped = "assistant" if role in ("assistant", "tutor") else "user"
            messages.append({"role": mapped, "content": content[: self.max_content_chars]})
        messages.append({"role": "user", "content": explanation[: self.max_content_chars]})
        return messages

    async def ask(
        self,
        topic: str,
        explanation: str,
        memory: Sequence[tuple[str, str]] = (),
        language: str = "en",
        *,
        user_id: str | None = None,
    ) -> LlmQuestions:
        """The parsed questions (possibly ``[]``) and their completion; :class:`LlmError` if none came."""
        completion = await self.client.complete(
            self.build_messages(topic, explanation, memory, language),
            user=pseudonym(user_id) if user_id else None,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        return LlmQuestions(parse_questions(completion.text, limit=self.max_questions), completion)


async def ask_with_fallback(
    questioner: LlmQuestioner | None,
    local: Callable[[], list[str]],
    *,
    topic: str,
    explanation: str,
    memory: Sequence[tuple[str, str]] = (),
    language: str = "en",
    session_id: str | None = None,
    user_id: str | None = None,
    on_usage: Callable[[UsageRecord], Awaitable[None]] | None = None,
    deadline_s: float | None = None,
) -> QuestionsResult:
    """The LLM's questions when it gives usable ones, else ``local()``'s; never raises :class:`LlmError`.

    ``questioner`` may be ``None`` (no backend configured): the local questions
    come straight back with ``error=None``. ``deadline_s`` bounds the whole LLM
    attempt, retries included, so a slow provider costs the learner at most
    that long. ``local`` is called only when needed. Usage is reported before
    returning, once per answered call; an exception from ``on_usage`` propagates,
    since metering is the caller's contract to keep.
    """
    if questioner is None:
        return QuestionsResult(local(), "local")
    usage: Usage | None = None
    error: str
    try:
        async with asyncio.timeout(deadline_s):
            answer = await questioner.ask(topic, explanation, memory, language, user_id=user_id)
    except LlmError as exc:
        usage, error = exc.usage, exc.message
    except TimeoutError:
        error = f"LLM gave no answer within the {deadline_s:g}s deadline"
    else:
        usage = answer.completion.usage
        if answer.questions:
            await _report(on_usage, usage, session_id, user_id)
            return QuestionsResult(answer.questions, "llm")
        error = f"LLM answer held no questions: {_preview(answer.completion.text)}"
    log.warning("falling back to local questions: %s", error)
    if usage is not None:
        await _report(on_usage, usage, session_id, user_id)
    return QuestionsResult(local(), "local", error)


async def _report(
    on_usage: Callable[[UsageRecord], Awaitable[None]] | None,
    usage: Usage,
    session_id: str | None,
    user_id: str | None,
) -> None:
    if on_usage is not None:
        await on_usage(UsageRecord.from_usage(usage, session_id=session_id, user_id=user_id))


def _preview(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")

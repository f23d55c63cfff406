"""The example in docs/llm.md runs, against the fake server, as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer

DOC = Path(__file__).resolve().parents[3] / "docs" / "llm.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


async def test_the_documented_example_gets_llm_questions_and_reports_usage(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [example] = python_blocks(DOC.read_text(encoding="utf-8"))
    monkeypatch.setenv("FEYNMAN_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.delenv("FEYNMAN_LLM_API_KEY", raising=False)
    openai_server.reply('["What is spread out, exactly?"]')
    namespace: dict[str, Any] = {}

    exec(compile(example, str(DOC), "exec"), namespace)
    questions = await namespace["questions_for_turn"]()

    assert questions == ["What is spread out, exactly?"]
    assert "llm.usage" in capsys.readouterr().out


async def test_the_documented_example_answers_locally_without_a_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [example] = python_blocks(DOC.read_text(encoding="utf-8"))
    monkeypatch.delenv("FEYNMAN_LLM_BASE_URL", raising=False)
    namespace: dict[str, Any] = {}

    exec(compile(example, str(DOC), "exec"), namespace)

    assert await namespace["questions_for_turn"]() == ["Can you say that without the jargon?"]

"""The example in docs/tutor.md is code that runs and says what it claims."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "tutor.md"


def test_the_python_example_in_the_tutor_doc_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/tutor.md lost its example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})

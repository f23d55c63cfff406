"""docs/configuration.md lists every setting: operators configure from the doc, not the source."""

from __future__ import annotations

import re
from pathlib import Path

from foundation.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_has_a_row_in_the_configuration_doc_and_every_row_is_a_setting() -> None:
    documented = set(re.findall(r"`FEYNMAN_([A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))
    settings = {name.upper() for name in Settings.model_fields}

    assert settings - documented == set()
    # FEYNMAN_TEST_BOOTSTRAP is the test suite's own variable, not a setting.
    assert documented - settings == {"TEST_BOOTSTRAP"}

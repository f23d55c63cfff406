"""Rebuild the two common-word lists the tutor ships (run by hand, never at run time).

The tutor calls a word a *term* when it is rare, and "rare" needs a list of the words
every 12-year-old knows. Shipping the lists as plain text keeps the tutor free of
run-time downloads and of the large packages they come from; this script is how
they were made, so anyone can check or rebuild them:

    pip install --target /tmp/wl wordfreq==3.1.1 jieba==0.42.1 textstat==0.7.13
    PYTHONPATH=/tmp/wl python producers/tutor/data/build_wordlists.py

- ``en_common.txt``: the 5,000 most frequent purely alphabetic English tokens from
  wordfreq 3.1.1 (data: CC BY-SA 4.0, by Robyn Speer and contributors). 5,000 and
  not 3,000 because wordfreq counts inflected forms apart ("plants", "planted").
- ``en_easy.txt``: the Dale-Chall list of about 3,000 words familiar to most
  fourth-graders, as textstat 0.7.13 (MIT) ships it. Frequency alone misses everyday
  words that are rare in print ("melt", "pond", "feather"); this list catches them.
- ``zh_common.txt``: the 10,000 most frequent words of two or more Han characters in
  jieba 0.42.1's ``dict.txt`` (MIT), the same dictionary rjieba segments with, so a
  segment and its entry always agree.

Hand-made supplements (lines after ``# supplement``) are kept when rebuilding.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

HERE = Path(__file__).parent
EN_SIZE = 5000
ZH_SIZE = 10000


def _supplement(path: Path) -> list[str]:
    """The hand-made lines of an existing list, so a rebuild does not lose them."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    marker = "# supplement"
    return lines[lines.index(marker) :] if marker in lines else []


def _write(path: Path, header: list[str], words: list[str]) -> None:
    supplement = _supplement(path)
    body = [f"# {line}" for line in header] + words + ([""] if not supplement else []) + supplement
    path.write_text("\n".join(body).rstrip("\n") + "\n", encoding="utf-8")


def build_en() -> None:
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 40000) if re.fullmatch(r"[a-z]+", w)][:EN_SIZE]
    header = [
        f"The {EN_SIZE} most frequent alphabetic English words, most frequent first.",
        "Source: wordfreq 3.1.1 top_n_list('en'); data CC BY-SA 4.0 (Robyn Speer et al.).",
        "Built by build_wordlists.py beside this file.",
    ]
    _write(HERE / "en_common.txt", header, words)


def build_en_easy() -> None:
    # Located, not imported: importing textstat pulls in nltk, which the list does not need.
    spec = importlib.util.find_spec("textstat")
    assert spec is not None and spec.submodule_search_locations, "pip install textstat==0.7.13"
    source = Path(spec.submodule_search_locations[0]) / "resources" / "en" / "easy_words.txt"
    words = sorted({w.strip().lower() for w in source.read_text(encoding="utf-8").split() if w.strip()})
    header = [
        "The Dale-Chall list of words familiar to most fourth-graders, alphabetical.",
        "Source: textstat 0.7.13 resources/en/easy_words.txt (MIT).",
        "Built by build_wordlists.py beside this file.",
    ]
    _write(HERE / "en_easy.txt", header, words)


def build_zh() -> None:
    import jieba

    rows = []
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
        word, freq, _tag = line.split()
        if len(word) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", word):
            rows.append((-int(freq), word))
    words = [w for _, w in sorted(rows)[:ZH_SIZE]]
    header = [
        f"The {ZH_SIZE} most frequent Chinese words of two or more characters, most frequent first.",
        "Source: jieba 0.42.1 dict.txt (MIT), ranked by its frequency column.",
        "Built by build_wordlists.py beside this file.",
    ]
    _write(HERE / "zh_common.txt", header, words)


if __name__ == "__main__":
    build_en()
    build_en_easy()
    build_zh()

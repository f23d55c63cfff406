# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""The shipped word lists, and the test every term detector needs: is this word rare?

Loaded once (``functools.cache``) from ``data/``; :func:`domain.tutor.warm_up`
loads them ahead of the first question so no learner pays for it.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

# Everyday acronyms a 12-year-old does not need explained.
_EVERYDAY_ACRONYMS = frozenset(
    {"OK", "TV", "USA", "US", "UK", "EU", "AM", "PM", "ID", "PC", "PS", "FAQ", "DIY", "ASAP", "VS", "BBC"}
)
# An acronym whose lower-case spelling is among the most frequent words is shouting, not jargon
# ("THIS IS SO COOL"); "DNA" (rank ~3,000) still counts as an acronym.
_SHOUTING_RANK = 1000
_ACRONYM = re.compile(r"[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9-]*")
_MIN_RARE_LETTERS = 4


def _read_list(name: str) -> list[str]:
    text = resources.files("domain.tutor").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def en_common() -> dict[str, int]:
    """Words a 12-year-old knows → frequency rank (0 = most frequent).

    The most frequent words in print, plus the Dale-Chall list of words most
    fourth-graders know (ranked after the others): print frequency alone calls
    "melt" or "pond" rare, and familiarity alone misses "energy" or "planet".
    """
    ranks = {word: rank for rank, word in enumerate(_read_list("en_common.txt"))}
    for word in _read_list("en_easy.txt"):
        ranks.setdefault(word, len(ranks))
    return ranks


@functools.cache
def zh_common() -> frozenset[str]:
    """Common Chinese words (and a few mis-tagged function words, see the supplement)."""
    return frozenset(_read_list("zh_common.txt"))


@functools.cache
def en_glossary() -> tuple[str, ...]:
    """Multi-word English terms worth asking about even when each word is common."""
    return tuple(sorted({t.lower() for t in _read_list("en_terms.txt")}, key=lambda t: (-len(t), t)))


@functools.cache
def en_heads() -> frozenset[str]:
    """Nouns that close a technical compound after a rare word ("Calvin *cycle*", "kinetic *energy*")."""
    return frozenset(w.lower() for w in _read_list("en_heads.txt"))


@functools.cache
def zh_heads() -> frozenset[str]:
    """Chinese nouns that close a compound after a rare word (引力*常数*, 卡尔文*循环*)."""
    return frozenset(_read_list("zh_heads.txt"))


def load_all() -> None:
    """Read every list now (warm-up)."""
    en_common()
    zh_common()
    en_glossary()
    en_heads()
    zh_heads()


def base_forms(word: str) -> list[str]:
    """The word and the spellings it may come from once a suffix is stripped.

    Deliberately crude (no dictionary): it only has to find *some* listed form, since
    a word counts as common when any of its candidates is common ("pulls" → "pull",
    "heavier" → "heavy", "stopped" → "stop").
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    forms = [w]
    for suffix, replacements in (
        ("ies", ("y",)),
        ("ves", ("f", "fe")),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ied", ("y",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
        ("ier", ("y",)),
        ("iest", ("y",)),
        ("er", ("", "e")),
        ("est", ("", "e")),
        ("ily", ("y",)),
        ("ly", ("",)),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 2:
            stem = w[: -len(suffix)]
            for replacement in replacements:
                forms.append(stem + replacement)
            if len(stem) >= 2 and stem[-1] == stem[-2]:  # "stopped" → "stopp" → "stop"
                forms.append(stem[:-1])
    return forms


@functools.lru_cache(maxsize=65536)
def is_common_en(word: str, within: int | None = None) -> bool:
    """Whether some form of ``word`` is among the ``within`` most frequent English words."""
    ranks = en_common()
    for form in base_forms(word):
        rank = ranks.get(form)
        if rank is not None and (within is None or rank < within):
            return True
    return False


@functools.lru_cache(maxsize=65536)
def is_acronym(word: str) -> bool:
    """ "ATP", "DNA", "SYN-ACK", "CO2", "mRNA": two capitals or more, not an everyday one or shouting."""
    if not _ACRONYM.fullmatch(word) or word.upper() in _EVERYDAY_ACRONYMS:
        return False
    letters = [c for c in word if c.isalpha()]
    if sum(c.isupper() for c in letters) * 2 < len(letters):
        return False
    return not is_common_en(word, within=_SHOUTING_RANK)


@functools.lru_cache(maxsize=65536)
def is_rare_en(word: str) -> bool:
    """A plain English word a curious 12-year-old might not know (hyphenated: any rare part)."""
    parts = [p for p in re.split(r"[-–]", word) if p]
    return any(len(p) >= _MIN_RARE_LETTERS and p.isalpha() and not is_common_en(p) for p in parts)


def is_rare_zh(word: str) -> bool:
    """A Chinese word of two characters or more that is not in the common list."""
    return len(word) >= 2 and word not in zh_common()


def stems_match(a: str, b: str) -> bool:
    """Two English words are the same word for topic purposes ("gravity" ~ "gravitational").

    They match when they share a prefix covering all but the last three letters of the
    shorter one, and at least five letters — or are equal, for short words.
    """
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    shortest = min(len(a), len(b))
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= max(5, shortest - 3)

"""Chinese word segmentation and part-of-speech tags, through rjieba.

rjieba is jieba-rs (a Rust port of jieba, same dictionary and tag set) behind a Python
binding: it tags 2,000 characters in about 0.15 ms where ``jieba.posseg`` takes about
15 ms, and loads its dictionary in under 0.1 s instead of about 0.8 s. See docs/tutor.md.
"""

from __future__ import annotations

import threading

import rjieba

_warm = threading.Event()
_lock = threading.Lock()


def warm_up() -> None:
    """Load the dictionary now; rjieba would otherwise do it inside the first learner's call."""
    if _warm.is_set():
        return
    with _lock:
        if not _warm.is_set():
            rjieba.tag("光合作用是植物利用阳光制造养分的过程。")
            _warm.set()


def tag(text: str) -> list[tuple[str, str]]:
    """``(word, tag)`` pairs covering ``text`` in order; tags are jieba's (n, nz, vn, eng, ...)."""
    return [(word, pos) for word, pos in rjieba.tag(text)]

# ruff: noqa: RUF001 - Chinese text is this module's data.
"""Chinese word segmentation and part-of-speech tags, through rjieba.

rjieba is jieba-rs (a Rust port of jieba, same dictionary and tag set) behind a Python
binding: it tags 2,000 characters in about 0.15 ms where ``jieba.posseg`` takes about
15 ms, and loads its dictionary in under 0.1 s instead of about 0.8 s. See docs/tutor.md.
"""

from __future__ import annotations

import threading

import rjieba

# Loading the dictionary is not all: rjieba builds its HMM for unknown words (here 先给)
# on first use, about 20 ms, so the warm-up text must contain one.
_WARM_UP_TEXT = "客户端先给服务器发一个SYN，服务器回一个SYN-ACK；光合作用的效率大约是5%。"
_warm = threading.Event()
_lock = threading.Lock()


def warm_up() -> None:
    """Load the dictionary now; rjieba would otherwise do it inside the first learner's call."""
    if _warm.is_set():
        return
    with _lock:
        if not _warm.is_set():
            rjieba.tag(_WARM_UP_TEXT)
            _warm.set()


def tag(text: str) -> list[tuple[str, str]]:
    """``(word, tag)`` pairs covering ``text`` in order; tags are jieba's (n, nz, vn, eng, ...)."""
    return [(word, pos) for word, pos in rjieba.tag(text)]

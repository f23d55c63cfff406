"""Which dead letters can be sent back: a letter that kept only a preview cannot."""

from __future__ import annotations

import base64

import pytest

from foundation.settings import Settings
from producers.requeue import Refused, resend_of
from schemas.events import DeadLetter
from schemas.topics import Topics

TOPICS = Topics.from_settings(Settings(topic_prefix="t"))


def letter(original: bytes, original_bytes: int | None) -> DeadLetter:
    return DeadLetter(
        reason="too_large" if original_bytes and original_bytes > len(original) else "not_json",
        error="e",
        origin_topic=TOPICS.conversations.name,
        origin_partition=0,
        origin_offset=7,
        original_b64=base64.b64encode(original).decode(),
        original_key="s-1",
        original_bytes=original_bytes,
    )


def test_a_whole_record_goes_back_to_its_topic_with_its_key() -> None:
    resend = resend_of(letter(b"{broken", 7), TOPICS)

    assert (resend.topic, resend.key, resend.value) == (TOPICS.conversations.name, "s-1", b"{broken")


def test_a_letter_that_kept_only_a_preview_is_refused() -> None:
    with pytest.raises(Refused, match="only a preview"):
        resend_of(letter(b"x" * 4096, 900_000), TOPICS)


def test_the_status_topic_is_no_requeue_target() -> None:
    status = letter(b"{}", 2).model_copy(update={"origin_topic": TOPICS.task_status.name})

    with pytest.raises(Refused, match="not an input topic"):
        resend_of(status, TOPICS)

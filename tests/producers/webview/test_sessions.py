"""Session cookies and CSRF tokens: only the server can make them, and they end."""

from __future__ import annotations

import time

import pytest

from producers.webview.sessions import SessionSigner

SECRET = b"k" * 32


def test_a_session_cookie_reads_back_and_holds_no_key() -> None:
    signer = SessionSigner(SECRET, 60)
    cookie = signer.issue("the-api-key")
    session = signer.read(cookie)
    assert session is not None and session.key_fingerprint == signer.key_fingerprint("the-api-key")
    assert "the-api-key" not in cookie and signer.key_fingerprint("the-api-key") != "the-api-key"
    assert signer.read(signer.issue("the-api-key")).sid != session.sid  # type: ignore[union-attr]


def test_an_altered_forged_or_foreign_cookie_is_no_session() -> None:
    signer = SessionSigner(SECRET, 60)
    cookie = signer.issue("k")
    payload, _, _ = cookie.partition(".")
    other_payload, _, _ = signer.issue("k").partition(".")
    # The last base64 character of a 32-byte MAC carries two unused bits, so
    # changing it can leave the MAC intact: alter a middle character instead.
    middle = len(cookie) - 10
    altered = cookie[:middle] + ("A" if cookie[middle] != "A" else "g") + cookie[middle + 1 :]
    assert signer.read(altered) is None
    assert signer.read(other_payload + cookie[len(payload) :]) is None
    assert signer.read(payload) is None
    assert signer.read(SessionSigner(b"o" * 32, 60).issue("k")) is None
    assert signer.read("") is None and signer.read(None) is None


def test_a_cookie_older_than_the_maximum_age_is_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = SessionSigner(SECRET, 60)
    cookie = signer.issue("k")
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert signer.read(cookie) is None


def test_the_csrf_token_belongs_to_its_session() -> None:
    signer = SessionSigner(SECRET, 60)
    token = signer.csrf_token("sid-1")
    assert signer.csrf_ok("sid-1", token)
    assert not signer.csrf_ok("sid-2", token)
    assert not signer.csrf_ok("sid-1", None) and not signer.csrf_ok("sid-1", token[:-1])

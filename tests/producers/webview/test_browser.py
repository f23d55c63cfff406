"""The web view in a real browser, against a real broker, worker and API process."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Locator, Page, expect

from foundation.settings import Settings
from schemas.topics import Topics
from tests.support import read_topic, running_api, running_worker

SECRET = "s" * 40
# API keys are at least 32 characters (foundation.settings.MIN_API_KEY_CHARS).
GOOD_KEY = "k-good-" + "g" * 32
GARBAGE = b'{"this is": not json'
# Where to copy the screenshot (docs/ to refresh docs/webview.png); tmp only otherwise.
SCREENSHOT_DIR = os.environ.get("FEYNMAN_SCREENSHOT_DIR")


async def chat(api_url: str, session_id: str, text: str) -> str:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        r = await client.post(
            "/chat", json={"topic": "gravity", "session_id": session_id, "user_input": text}
        )
    assert r.status_code == 200, r.text
    return str(r.json()["background_task_id"])


def row(page: Page, task_id: str) -> Locator:
    return page.locator(f'#tasks tr[data-task-id="{task_id}"]')


async def test_a_task_goes_from_queued_to_completed_on_the_page_without_a_reload(
    settings: Settings, browser: Browser, tmp_path: Path
) -> None:
    with running_api(settings) as api_url:
        page = await browser.new_page(viewport={"width": 1360, "height": 1500})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{api_url}/ui/")
        await expect(page.get_by_test_id("feed")).to_contain_text("live", timeout=20_000)
        await page.evaluate("window.__sameDocument = true")

        # No worker yet: the turn's task is queued, and the page shows it so.
        tid = await chat(api_url, "s-browser", "Things fall because the Earth pulls them.")
        await expect(row(page, tid)).to_have_attribute("data-status", "queued", timeout=15_000)
        await expect(page.get_by_test_id("worker")).to_contain_text("no worker answers", timeout=15_000)

        with running_worker(settings):
            await expect(row(page, tid)).to_have_attribute("data-status", "completed", timeout=60_000)
            await expect(page.get_by_test_id("worker")).to_have_text("worker ok", timeout=15_000)
            assert await page.evaluate("window.__sameDocument === true"), "the page reloaded"
            for n in range(4):
                await chat(api_url, f"s-other-{n % 2}", f"Heat flows from hot to cold, turn {n}.")

            # Filters: one session, then a status the task does not have.
            # A turn starts several tasks (transcript, analysis, consolidation, ...): all of
            # this session's, none of the others'.
            await page.get_by_test_id("filter-session").fill("s-browser")
            await expect(page.get_by_test_id("page-info")).to_have_text(
                re.compile(r"^1\u2013(\d+) of \1$"), timeout=10_000
            )
            await expect(row(page, tid)).to_be_visible()
            await expect(page.locator("#tasks")).not_to_contain_text("s-other-")
            await page.get_by_test_id("filter-status").select_option("dead")
            await expect(row(page, tid)).to_have_count(0, timeout=10_000)
            await page.get_by_test_id("filter-status").select_option("completed")
            await expect(row(page, tid)).to_be_visible(timeout=10_000)

            # Lookup by id.
            await page.get_by_test_id("lookup-id").fill(tid)
            await page.get_by_role("button", name="Look up").click()
            await expect(page.get_by_test_id("lookup-result")).to_contain_text("completed")

            # A record that is not JSON: the worker dead-letters it, the page shows why and what.
            conversations = Topics.from_settings(settings).conversations.name
            producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(conversations, GARBAGE, key=b"s-garbage")
            finally:
                await producer.stop()
            letter = page.locator('#dead-letters tr[data-reason="not_json"]')
            await expect(letter).to_have_count(1, timeout=30_000)
            await expect(letter).to_contain_text("s-garbage")
            await letter.locator("summary").click()
            await expect(letter.get_by_test_id("dl-original")).to_have_text(GARBAGE.decode())

            # Throughput and latency charts have drawn the finished tasks.
            await page.get_by_test_id("filter-status").select_option("")
            await page.get_by_test_id("filter-session").fill("")
            await expect(page.locator("#latency-chart svg rect").first).to_be_visible(timeout=15_000)
            await expect(page.locator("#throughput-chart svg polyline").first).to_be_visible()
            # The group's lag on the conversations topic drops to 0 once the worker commits.
            lag = page.locator(f'#lag tr[data-topic="{conversations}"] > td:nth-child(2)')
            await expect(lag).to_have_text("0", timeout=20_000)
            shot = tmp_path / "webview.png"
            await page.screenshot(path=str(shot), full_page=True)
            if SCREENSHOT_DIR:
                shutil.copy(shot, Path(SCREENSHOT_DIR) / "webview.png")

            # Requeue it: the original bytes go back to the conversations topic with their key.
            await letter.locator('input[type="checkbox"]').check()
            await page.get_by_test_id("requeue").click()
            await expect(page.get_by_test_id("requeue-result")).to_contain_text("1 requeued")
            records = await read_topic(settings.kafka_bootstrap, conversations, count=20, timeout=5)
            again = [r for r in records if r.value == GARBAGE]
            assert len(again) == 2 and all(r.key == b"s-garbage" for r in again)
        assert not errors, errors


async def test_in_production_the_page_needs_a_login_and_the_data_needs_the_session(
    settings: Settings, browser: Browser
) -> None:
    prod = Settings(
        **{**settings.model_dump(), "env": "production", "api_keys": [GOOD_KEY], "ui_session_secret": SECRET}
    )
    with running_api(prod) as api_url:
        async with httpx.AsyncClient(base_url=api_url) as client:
            for path in ("/ui/api/tasks", "/ui/api/dead-letters", "/ui/api/summary", "/ui/api/lag"):
                refused = await client.get(path)
                assert refused.status_code == 401, path
                assert refused.json()["reason"] == "not_authenticated"
            with_key = await client.get("/ui/api/dead-letters", headers={"X-API-Key": GOOD_KEY})
            assert with_key.status_code == 200

        page = await browser.new_page()
        await page.goto(f"{api_url}/ui/")
        assert page.url.endswith("/ui/login")

        await page.get_by_test_id("api-key").fill("k-wrong")
        await page.get_by_test_id("login").click()
        await expect(page.get_by_test_id("login-error")).to_contain_text("not a valid API key")
        assert page.url.endswith("/ui/login")

        await page.get_by_test_id("api-key").fill(GOOD_KEY)
        await page.get_by_test_id("login").click()
        await page.wait_for_url(f"{api_url}/ui/")
        await expect(page.get_by_test_id("feed")).to_contain_text("live", timeout=20_000)
        [cookie] = await page.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["secure"]
        assert await page.evaluate("document.cookie") == ""

        # Logging out ends access: the next visit is sent to the login page again.
        await page.get_by_role("button", name="Log out").click()
        await page.wait_for_url(f"{api_url}/ui/login")
        await page.goto(f"{api_url}/ui/")
        assert page.url.endswith("/ui/login")

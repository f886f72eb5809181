"""Fixtures of the browser test: the demo Home Assistant and a headless Chromium.

Nothing here imports Playwright at module level, so the normal test run (which skips the
browser test) does not need it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import re
import shutil
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # playwright lives in .venv-e2e only (scripts/e2e), not in the legs' venvs.
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        BrowserContext,
        Page,
        Playwright,
    )

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "e2e"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT = 180.0


@dataclass
class Demo:
    """The running demo: where it is and its credentials."""

    url: str
    username: str
    password: str
    wifi_ssid: str
    wifi_password: str
    config: Path
    started_in: float


def _require_private_network() -> None:
    """Refuse to run hass on the machine's own network (it opens mDNS on every interface)."""
    if os.environ.get("BLE_PROV_NETNS"):
        return
    if os.environ.get("BLE_PROV_E2E_HOST_NETWORK") == "1":  # a user's own machine
        return
    pytest.fail(
        "the browser test runs Home Assistant, which opens mDNS on every interface: run it with "
        "scripts/e2e (private network namespace), or set BLE_PROV_E2E_HOST_NETWORK=1 on your own "
        "machine"
    )


@pytest.fixture(scope="session")
def demo() -> Iterator[Demo]:
    """Start scripts/develop (fresh config, onboarding, emulated devices); stop it afterwards."""
    _require_private_network()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in (ARTIFACTS / "timings.txt", ARTIFACTS / "browser-console.log"):
        stale.unlink(missing_ok=True)
    for stale in ARTIFACTS.glob("failure-*.png"):
        stale.unlink()
    shutil.rmtree(ARTIFACTS / "screenshots", ignore_errors=True)
    cmd = [str(REPO / "scripts" / "develop"), "--fresh", "--config", "artifacts/e2e/config"]
    if leg := os.environ.get("BLE_PROV_E2E_LEG"):
        cmd += ["--leg", leg]
    if not os.environ.get("BLE_PROV_NETNS"):
        cmd.append("--no-netns")
    log_path = ARTIFACTS / "develop.log"
    log = log_path.open("w", encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    ready = threading.Event()
    banner: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            banner.append(line)
            if line.lstrip().startswith("Stop "):  # last line of the ready banner
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.wait(0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not become ready; see {log_path}:\n{''.join(banner)}")
        text = "".join(banner)
        url = re.search(r"Open\s+(http://\S+)", text)
        login = re.search(r"Log in as\s+(\S+) / (\S+)", text)
        assert url, text
        assert login, text
        yield Demo(
            url=url.group(1).rstrip("/"),
            username=login.group(1),
            password=login.group(2),
            wifi_ssid=os.environ.get("BLE_PROV_E2E_SSID", "DemoHome"),
            wifi_password=os.environ.get("BLE_PROV_E2E_WIFI_PASSWORD", "provision-me"),
            config=REPO / "artifacts" / "e2e" / "config",
            started_in=time.monotonic() - started,
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # scripts/develop stops hass (its trap)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        reader.join(timeout=5)
        log.close()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver (no browser download: Debian's chromium is launched below)."""
    from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
        sync_playwright,
    )

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_context(
    playwright_driver: Playwright, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """Headless Chromium from Debian's package, a fresh profile per test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/e2e installs Debian's chromium package")
    profile = ARTIFACTS / "chromium-profiles" / re.sub(r"\W+", "_", request.node.name)
    shutil.rmtree(profile, ignore_errors=True)
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 860},
        locale="en-US",
        timezone_id="UTC",
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    """A fresh tab; on failure its last state is saved to artifacts/e2e/failure.png."""
    tab = browser_context.new_page()
    console: list[str] = []
    tab.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    yield tab
    with (ARTIFACTS / "browser-console.log").open("a", encoding="utf-8") as out:
        out.writelines(f"{line}\n" for line in console)
    tab.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Screenshot the page when the test body fails."""
    report = yield
    if report.when == "call" and report.failed:
        tab = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if tab is not None:
            safe = re.sub(r"\W+", "_", item.name)
            shot = ARTIFACTS / f"failure-{safe}.png"
            with contextlib.suppress(Exception):  # best effort
                tab.screenshot(path=str(shot), full_page=True)
    return report

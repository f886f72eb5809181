"""Real-browser end-to-end test: provision an emulated device through HA's own frontend.

Skipped unless BLE_PROV_E2E=1. Run it with `scripts/e2e`, which installs Chromium and Playwright,
makes a private network namespace and runs this test (and the demo Home Assistant) inside it.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

import pytest

if os.environ.get("BLE_PROV_E2E") != "1":
    pytest.skip(
        "browser end-to-end test: run scripts/e2e (or set BLE_PROV_E2E=1 inside a private "
        "network namespace with Playwright and Debian's chromium installed)",
        allow_module_level=True,
    )

from playwright.sync_api import (
    Locator,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    expect,
)

from .conftest import ARTIFACTS, SCREENSHOTS, Demo

if TYPE_CHECKING:
    from collections.abc import Iterator

# The device provisioned through the frontend (the BluFi security-V2 one, ESP-IDF v6.0 profile).
DEVICE_NAME = os.environ.get("BLE_PROV_E2E_DEVICE", "BLUFI_V2")
WRONG_PASSWORD = "not-the-password"  # noqa: S105
WRONG_PASSWORD_MESSAGE = re.compile(r"password", re.IGNORECASE)


class Shots:
    """Numbered screenshots of each step: docs/screenshots/ (README) and artifacts/e2e/."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0
        self.timings: list[tuple[str, float]] = []
        self.start = time.monotonic()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("e2e-*.png"):
            old.unlink()

    def __call__(self, name: str) -> None:
        self.count += 1
        file = f"e2e-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(SCREENSHOTS / file))
        self.timings.append((file, time.monotonic() - self.start))


@pytest.fixture
def shots(page: Page) -> Iterator[Shots]:
    """Screenshot helper; writes the step timings to artifacts/e2e/timings.txt."""
    helper = Shots(page)
    yield helper
    (ARTIFACTS / "timings.txt").write_text(
        "".join(f"{t:6.1f} s  {name}\n" for name, t in helper.timings), encoding="utf-8"
    )


def flow_dialog(page: Page) -> Locator:
    """HA's config flow dialog."""
    return page.locator("dialog-data-entry-flow")


def test_provision_through_frontend(demo: Demo, page: Page, shots: Shots) -> None:
    """Log in, add the discovered device, pick a network, wrong then right password, check."""
    # 1. Log in as the demo user (HA redirects to its login page).
    page.goto(demo.url + "/")
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()
    page.get_by_role("textbox", name="Username").fill(demo.username)
    page.get_by_role("textbox", name="Password").fill(demo.password)
    shots("login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    expect(page.locator("ha-sidebar")).to_be_visible(timeout=30_000)

    # 2. Settings > Devices & services: the discovered devices are waiting.
    page.goto(demo.url + "/config/integrations/dashboard")
    card = page.locator("ha-config-flow-card").filter(has_text=DEVICE_NAME)
    expect(card).to_be_visible(timeout=30_000)
    shots("discovered")

    # 3. Add it: the config flow dialog opens on the confirmation step.
    card.get_by_role("button", name=re.compile(r"^(Add|Configure)$")).click()
    dialog = flow_dialog(page)
    expect(dialog.get_by_text(f"Set up {DEVICE_NAME}")).to_be_visible()
    shots("confirm")
    dialog.get_by_role("button", name="Submit").click()

    # 4. The Wi-Fi step lists the networks the device scanned.
    expect(dialog.get_by_text(f"Wi-Fi network for {DEVICE_NAME}")).to_be_visible(timeout=30_000)
    shots("wifi-form")

    # 5. Pick the network from the device's scan (the dropdown), type a WRONG password.
    network = dialog.get_by_label("Network")
    network.click()
    # The dropdown lists "<ssid> (<rssi> dBm)", strongest first (a searchable picker).
    option = page.get_by_text(re.compile(rf"^{re.escape(demo.wifi_ssid)} \(-?\d+ dBm\)$"))
    expect(option.first).to_be_visible()
    shots("network-list")
    option.first.click()
    password = dialog.get_by_role("textbox", name="Password")
    password.fill(WRONG_PASSWORD)
    dialog.get_by_role("button", name="Submit").click()

    # 6. The device really tries to join and fails: the flow comes back with the clear error.
    error = dialog.get_by_text("The device could not join the network: the password is wrong.")
    expect(error).to_be_visible(timeout=60_000)
    shots("wrong-password")

    # 7. The right password: the progress step while the device joins, then the success dialog.
    password.fill(demo.wifi_password)
    dialog.get_by_role("button", name="Submit").click()
    progress = dialog.get_by_text(f"{DEVICE_NAME} is joining {demo.wifi_ssid}")
    try:
        progress.wait_for(timeout=5_000)
        shots("provisioning")
    except PlaywrightTimeoutError:  # the emulated join may already be over: not an error
        pass
    finish = dialog.get_by_role("button", name="Finish")
    expect(finish).to_be_visible(timeout=60_000)
    shots("success")
    finish.click()
    expect(dialog).to_be_hidden()

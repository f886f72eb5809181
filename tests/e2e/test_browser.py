"""Real-browser end-to-end test: provision an emulated device through HA's own frontend.

Skipped unless BLE_PROV_E2E=1. Run it with `scripts/e2e`, which installs Chromium and Playwright,
makes a private network namespace and runs this test (and the demo Home Assistant) inside it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import TYPE_CHECKING

import pytest

if os.environ.get("BLE_PROV_E2E") != "1":
    pytest.skip(
        "browser end-to-end test: run scripts/e2e (or set BLE_PROV_E2E=1 inside a private "
        "network namespace with Playwright and Debian's chromium installed)",
        allow_module_level=True,
    )

from playwright.sync_api import (  # type: ignore[import-not-found, unused-ignore]
    Locator,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    expect,
)

from .conftest import ARTIFACTS, SCREENSHOTS, Demo

if TYPE_CHECKING:
    from collections.abc import Iterator

# The demo's three emulated devices, by the name HA's discovery card shows. The first one's
# screenshots are the README's (docs/screenshots/).
DEVICES = {
    "blufi_v2": "BLUFI_V2",  # ESP-IDF v6.0 BluFi example: BluFi 1.4, security V2
    "blufi_v1": "BLUFI_V1",  # ESP-IDF v5.5 BluFi example: BluFi 1.3, security V1
    "bluenet": "Bluenet device 0001",  # Bluenet daemon (no name in its advertisement)
}
DOCS_DEVICE = "blufi_v2"
# Where the demo's DHCP server puts each device (dev/.../ble_provisioning_bench/dhcp.py; Bluenet
# reports its own address in its host name).
IP_ADDRESSES = {"blufi_v2": "192.168.1.57", "blufi_v1": "192.168.1.56", "bluenet": None}
WRONG_PASSWORD = "not-the-password"


def consent_to_cleartext(dialog: Locator) -> None:
    """Turn on the explicit clear-text acknowledgement where the form asks for it (Bluenet).

    A boolean field is a switch (or a checkbox on older frontends) inside its form row; the
    label is a sibling, so the row is found by its text.
    """
    row = dialog.locator("ha-form-boolean, ha-selector-boolean, ha-formfield").filter(
        has_text="I accept that the password is sent in clear text"
    )
    if not row.count():
        return
    toggle = row.last.locator("ha-switch, ha-checkbox").first
    if not toggle.evaluate("el => Boolean(el.checked)"):
        toggle.click()
    expect(toggle).to_have_js_property("checked", True)


class Shots:
    """Numbered screenshots of each step in artifacts/e2e/screenshots/<device>/.

    With BLE_PROV_E2E_UPDATE_DOCS=1 (scripts/e2e --update-docs) the README's device's shots also
    replace docs/screenshots/.
    """

    def __init__(self, page: Page, device: str) -> None:
        self.page = page
        self.device = device
        self.count = 0
        self.timings: list[tuple[str, float]] = []
        self.start = time.monotonic()
        self.dirs = [ARTIFACTS / "screenshots" / device]
        if device == DOCS_DEVICE and os.environ.get("BLE_PROV_E2E_UPDATE_DOCS") == "1":
            self.dirs.append(SCREENSHOTS)
        for folder in self.dirs:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("[0-9][0-9]-*.png"):
                old.unlink()

    def __call__(self, name: str) -> None:
        self.count += 1
        file = f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(self.dirs[0] / file))
        for folder in self.dirs[1:]:
            shutil.copyfile(self.dirs[0] / file, folder / file)
        self.timings.append((file, time.monotonic() - self.start))


@pytest.fixture(params=list(DEVICES))
def device(request: pytest.FixtureRequest) -> str:
    """The key of the device this run provisions."""
    return str(request.param)


@pytest.fixture
def shots(demo: Demo, page: Page, device: str) -> Iterator[Shots]:
    """Screenshot helper; appends the timings to artifacts/e2e/timings.txt."""
    helper = Shots(page, device)
    yield helper
    timings = ARTIFACTS / "timings.txt"
    if not timings.exists():
        timings.write_text(
            f"demo ready (fresh config, hass, onboarding, discoveries): {demo.started_in:.1f} s\n",
            encoding="utf-8",
        )
    with timings.open("a", encoding="utf-8") as out:
        out.write(f"{DEVICES[device]}: seconds since its first step started\n")
        out.writelines(f"{t:6.1f} s  {name}\n" for name, t in helper.timings)


def open_page(page: Page, url: str) -> None:
    """Navigate and wait until HA's launch screen ("Loading...") is gone."""
    page.goto(url)
    page.locator("#ha-launch-screen").wait_for(state="detached", timeout=30_000)


def flow_dialog(page: Page) -> Locator:
    """HA's config flow dialog."""
    return page.locator("dialog-data-entry-flow")


def test_provision_through_frontend(demo: Demo, page: Page, shots: Shots, device: str) -> None:
    """Log in, add the discovered device, pick a network, wrong then right password, check."""
    name = DEVICES[device]
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
    open_page(page, demo.url + "/config/integrations/dashboard")
    card = page.locator("ha-config-flow-card").filter(has_text=name)
    expect(card).to_be_visible(timeout=30_000)
    shots("discovered")

    # 3. Add it: the config flow dialog opens on the confirmation step.
    card.get_by_role("button", name=re.compile(r"^(Add|Configure)$")).click()
    dialog = flow_dialog(page)
    expect(dialog.get_by_text(f"Set up {name}")).to_be_visible()
    shots("confirm")
    dialog.get_by_role("button", name="Submit").click()

    # 4. The Wi-Fi step lists the networks the device scanned.
    expect(dialog.get_by_text(f"Wi-Fi network for {name}")).to_be_visible(timeout=30_000)
    shots("wifi-form")

    # 5. Pick the network from the device's scan (the dropdown), type a WRONG password.
    # HA 2026.x renders a searchable picker labelled "Network"; 2025.x a combobox "Network*".
    combo = dialog.get_by_role("combobox", name=re.compile(r"^Network"))
    network = combo if combo.count() else dialog.get_by_label("Network", exact=True)
    network.click()
    # The dropdown lists "<ssid> (<rssi> dBm)", strongest first (a searchable picker).
    label = re.compile(rf"^\s*{re.escape(demo.wifi_ssid)}( \(-?\d+ dBm\))?\s*$")
    option = page.get_by_role("option", name=label).or_(page.get_by_text(label))
    expect(option.last).to_be_visible()  # .last: the list entry, not the field's own value
    shots("network-list")
    option.last.click()
    password = dialog.get_by_role("textbox", name="Password")
    password.fill(WRONG_PASSWORD)
    consent_to_cleartext(dialog)
    dialog.get_by_role("button", name="Submit").click()

    # 6. The device really tries to join and fails: the flow comes back with the clear error.
    error = dialog.get_by_text("The device could not join the network: the password is wrong.")
    expect(error).to_be_visible(timeout=60_000)
    shots("wrong-password")

    # 7. The right password: the progress step while the device joins, then the final step
    # (where the device is on the network), then the success dialog.
    password.fill(demo.wifi_password)
    consent_to_cleartext(dialog)
    dialog.get_by_role("button", name="Submit").click()
    progress = dialog.get_by_text(f"{name} is joining {demo.wifi_ssid}")
    try:
        progress.wait_for(timeout=5_000)
        shots("provisioning")
    except PlaywrightTimeoutError:  # the emulated join may already be over: not an error
        pass
    final = dialog.get_by_text(re.compile(rf"{re.escape(name)} joined {demo.wifi_ssid}"))
    expect(final.first).to_be_visible(timeout=60_000)
    shots("final-step")
    dialog.get_by_role("button", name="Submit").click()
    finish = dialog.get_by_role("button", name="Finish")
    expect(finish).to_be_visible(timeout=60_000)
    shots("success")
    finish.click()
    expect(dialog).to_be_hidden()

    # 8. The device page: the provisioned device with its entities; Wi-Fi state "Connected".
    open_page(page, demo.url + "/config/devices/dashboard")
    page.get_by_text(name, exact=True).first.click()
    page.wait_for_url(re.compile(r"/config/devices/device/"))
    wifi_state = page.locator("hui-generic-entity-row").filter(has_text="Wi-Fi state")
    expect(wifi_state).to_be_visible()
    expect(wifi_state).to_contain_text("Connected", timeout=30_000)
    ssid_row = page.locator("hui-generic-entity-row").filter(has_text="Connected SSID")
    expect(ssid_row).to_contain_text(demo.wifi_ssid)
    # The IP address the (demo's) DHCP discovery reported: a diagnostic entity.
    ip_row = page.locator("hui-generic-entity-row").filter(has_text="IP address")
    expected_ip = IP_ADDRESSES[device]
    expect(ip_row).to_contain_text(expected_ip or re.compile(r"\d+\.\d+\.\d+\.\d+"), timeout=30_000)
    ip_row.scroll_into_view_if_needed()  # the picture shows the IP address (Diagnostic)
    shots("device-page")

    # 9. The integration's actions work from the developer tools (YAML mode): get_status.
    device_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    open_page(page, demo.url + "/developer-tools/action")
    page.get_by_role("button", name=re.compile("YAML mode", re.IGNORECASE)).click()
    editor = page.locator("ha-code-editor .cm-content").first
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(
        f"action: ble_provisioning.get_status\ndata:\n  device_id: {device_id}\n"
    )
    page.get_by_role("button", name="Perform action").click()
    response = page.locator("ha-code-editor").filter(has_text="state: connected").last
    expect(response).to_be_visible(timeout=30_000)
    expect(response).to_contain_text(f"ssid: {demo.wifi_ssid}")
    shots("action-get-status")

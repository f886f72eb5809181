"""Diagnostics: device state with passwords, keys, SSIDs and BSSIDs redacted."""

from __future__ import annotations

import json

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ble_provisioning.const import DOMAIN

from .conftest import BLUFI_ADDRESS, PASSWORD, Bench, make_entry, setup_entry
from .helpers import device_for


async def test_diagnostics_redacted(
    hass: HomeAssistant, bench: Bench, hass_client: ClientSessionGenerator
) -> None:
    """Diagnostics show the state but no password, SSID or BSSID."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device = device_for(hass, BLUFI_ADDRESS)
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {"device_id": device.id, "ssid": "HomeNet", "password": PASSWORD},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN, "scan_wifi", {"device_id": device.id}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert PASSWORD not in text
    assert "HomeNet" not in text
    assert "Cafe" not in text
    assert "a4:cf:12" not in text
    assert diagnostics["protocol"] == "blufi"
    assert diagnostics["entry"]["data"]["last_ssid"] == REDACTED
    assert diagnostics["entry"]["title"] == REDACTED
    assert diagnostics["status"]["state"] == "connected"
    assert diagnostics["status"]["ssid"] == REDACTED
    assert diagnostics["status"]["bssid"] == REDACTED
    assert diagnostics["networks"][0] == {"ssid": REDACTED, "rssi": -45, "auth": None}
    assert diagnostics["last_provision"]["outcome"] == "connected"
    assert diagnostics["advertisement"]["connectable"] is True
    assert diagnostics["capabilities"]["encrypted"] is True
    assert diagnostics["security"] == "blufi_v2"
    # The device's address is redacted everywhere: by key (title, unique_id, data) and inside
    # any other text (the device registry's connections).
    assert diagnostics["entry"]["unique_id"] == REDACTED
    assert diagnostics["entry"]["data"]["address"] == REDACTED
    assert diagnostics["devices"][0]["model"] == "BluFi device (protocol 1.4)"
    assert diagnostics["devices"][0]["connections"] == [["bluetooth", REDACTED]]
    for spelling in (BLUFI_ADDRESS, BLUFI_ADDRESS.lower(), BLUFI_ADDRESS.replace(":", "")):
        assert spelling not in text

"""Why a join failed: one example of each diagnosis, driven by the BluFi emulator's Wi-Fi.

The diagnosis shows as the flow's error, in the action's error (with the raw end reason code),
in get_status, and on the failure-reason sensor (translated attribute states).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, WifiAp
from custom_components.ble_provisioning.const import DOMAIN
from custom_components.ble_provisioning.protocol.blufi.const import WifiReason
from custom_components.ble_provisioning.protocol.diagnosis import JoinDiagnosis

from .conftest import BLUFI_ADDRESS, PASSWORD, Bench, blufi_networks, make_entry, setup_entry
from .helpers import confirm_discovery, device_for, submit_wifi

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / DOMAIN / "translations" / "en.json"


def _environment() -> list[WifiAp]:
    """The usual networks, plus one access point per way a join fails."""
    return [
        *blufi_networks(),
        WifiAp("Faint", rssi=-88, password=PASSWORD),
        WifiAp("Full", rssi=-50, password=PASSWORD, outcome=WifiReason.ASSOC_TOOMANY),
        WifiAp(
            "Enterprise",
            rssi=-50,
            password=PASSWORD,
            outcome=WifiReason.NO_AP_FOUND_W_COMPATIBLE_SECURITY,
        ),
    ]


@pytest.mark.parametrize(
    ("ssid", "password", "error"),
    [
        # Out of range (the emulator's invisible AP): not in the device's scan.
        ("Ghost", PASSWORD, "network_not_found"),
        # A handshake timeout at -88 dBm: the signal, not the password.
        ("Faint", "not-the-password", "weak_signal"),
        # The same timeout at -45 dBm: the password.
        ("HomeNet", "not-the-password", "wrong_password"),
        # Reason 5 (too many stations): the AP refused the device.
        ("Full", PASSWORD, "ap_rejected"),
        # Reason 210 (no AP with compatible security).
        ("Enterprise", PASSWORD, "unsupported_security"),
    ],
)
async def test_flow_error_names_the_diagnosis(
    hass: HomeAssistant, bench: Bench, ssid: str, password: str, error: str
) -> None:
    """Each diagnosis is the Wi-Fi form's (translated) error."""
    await bench.blufi(BlufiDeviceConfig(networks=_environment(), seed=3))
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    result = await submit_wifi(hass, result["flow_id"], {"ssid": ssid, "password": password})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    translations = json.loads(TRANSLATIONS.read_text())
    assert error in translations["config"]["error"]


async def test_action_and_sensor_keep_the_raw_reason(hass: HomeAssistant, bench: Bench) -> None:
    """The action's error names the diagnosis and the end reason; the sensor and status too."""
    await bench.blufi(BlufiDeviceConfig(networks=_environment(), seed=3))
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device_id = device_for(hass, BLUFI_ADDRESS).id
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "provision_wifi",
            {"device_id": device_id, "ssid": "Faint", "password": "not-the-password"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "join_weak_signal"
    assert err.value.translation_placeholders == {"ssid": "Faint", "end_reason_code": "15"}
    state = hass.states.get("sensor.test_device_failure_reason")
    assert state.state == "wrong_password"  # the device's own outcome stays the state
    assert state.attributes["diagnosis"] == "weak_signal"
    assert state.attributes["end_reason_code"] == 15

    response: Any = await hass.services.async_call(
        DOMAIN, "get_status", {"device_id": device_id}, blocking=True, return_response=True
    )
    assert response["failure_reason"] == "wrong_password"
    assert response["diagnosis"] == "weak_signal"
    assert response["end_reason_code"] == 15

    # A success clears the diagnosis.
    await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD},
        blocking=True,
        return_response=True,
    )
    state = hass.states.get("sensor.test_device_failure_reason")
    assert state.state == "none"
    assert state.attributes["diagnosis"] is None


def test_every_diagnosis_is_translated() -> None:
    """The sensor's attribute states and the action errors exist for every diagnosis."""
    translations = json.loads(TRANSLATIONS.read_text())
    states = translations["entity"]["sensor"]["failure_reason"]["state_attributes"]["diagnosis"]
    assert set(states["state"]) == {diagnosis.value for diagnosis in JoinDiagnosis}
    for diagnosis in ("not_visible", "weak_signal", "ap_rejected", "unsupported_security"):
        message = translations["exceptions"][f"join_{diagnosis}"]["message"]
        assert "{end_reason_code}" in message

"""The key scenarios on every link profile, through the public surface only.

Each scenario runs on each profile of ``PROFILES`` (the ``link_profiles`` marker: the radio, the
client semantics and the path Home Assistant sees the device through are the profile's) and on
each emulated device (BluFi V1, BluFi V2, Bluenet). Only flow results, actions, their responses
and entity states are asserted, so the integration's internals may change underneath.

Adding a profile is one word in ``PROFILES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench.emulators.bluenet import BluenetConfig, WifiNetwork as BluenetNetwork
from bench.emulators.blufi import BlufiDeviceConfig
from bench.link.profiles import BLUEZ_LOCAL, ESPHOME_PROXY, IDEAL, LinkProfile
from custom_components.ble_provisioning.const import CONF_STATUS_INTERVAL, DOMAIN

from .conftest import (
    BLUENET_ADDRESS,
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    blufi_networks,
    make_entry,
    setup_entry,
    wait_for,
)
from .helpers import device_for, discovery_flow, submit_wifi

PROFILES = (IDEAL, BLUEZ_LOCAL, ESPHOME_PROXY)

SHORT_PASSWORD = "short-secret-12"
"""15 bytes: fits the 20 bytes the Bluenet client allows when ``mtu_size`` is 23."""
LONG_PASSWORD = "L" * 63
"""The longest WPA passphrase: needs an ATT write of 63 bytes."""


@dataclass(frozen=True)
class Device:
    """An emulated device and what provisioning it takes."""

    kind: str
    address: str
    protocol: str
    version: str
    password: str
    networks: list[Any] = field(default_factory=list, compare=False)

    async def add(self, bench: Bench) -> Any:
        """Put the emulator on the radio (Home Assistant sees it)."""
        if self.protocol == "bluenet":
            return await bench.bluenet(
                BluenetConfig(
                    networks=[
                        BluenetNetwork("HomeNet", SHORT_PASSWORD),
                        BluenetNetwork("LongPass", LONG_PASSWORD),
                    ]
                )
            )
        profile = "v5.5" if self.version == "1.3" else "v6.0"
        return await bench.blufi(
            BlufiDeviceConfig(networks=blufi_networks(), seed=1), profile=profile
        )

    def entry(self) -> Any:
        """A config entry for the device, as the flow creates it."""
        return make_entry(
            self.address, self.protocol, version=self.version, options={CONF_STATUS_INTERVAL: 30}
        )

    @property
    def form_consent(self) -> dict[str, Any]:
        """The Wi-Fi form's clear-text acknowledgement (a field of Bluenet's form only)."""
        return {"allow_cleartext": True} if self.protocol == "bluenet" else {}


BLUFI_V1 = Device("blufi-v1", BLUFI_ADDRESS, "blufi", "1.3", PASSWORD)
BLUFI_V2 = Device("blufi-v2", BLUFI_ADDRESS, "blufi", "1.4", PASSWORD)
BLUENET = Device("bluenet", BLUENET_ADDRESS, "bluenet", "1.0", SHORT_PASSWORD)
DEVICES = [pytest.param(device, id=device.kind) for device in (BLUFI_V1, BLUFI_V2, BLUENET)]
BLUFI_DEVICES = [pytest.param(device, id=device.kind) for device in (BLUFI_V1, BLUFI_V2)]


def _sensor(hass: HomeAssistant, suffix: str) -> str | None:
    """State of the one device's sensor whose entity id ends with ``suffix``."""
    found = [s for s in hass.states.async_all("sensor") if s.entity_id.endswith(suffix)]
    assert len(found) == 1, [s.entity_id for s in found]
    return found[0].state


def _wifi_state(hass: HomeAssistant) -> str | None:
    return _sensor(hass, "_wi_fi_state")


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def _provision(hass: HomeAssistant, device_id: str, ssid: str, password: str) -> Any:
    """Call provision_wifi (clear text allowed: Bluenet needs it); return its response."""
    data = {"device_id": device_id, "ssid": ssid, "password": password, "allow_cleartext": True}
    return await _call(hass, "provision_wifi", data)


async def _loaded(hass: HomeAssistant, bench: Bench, device: Device) -> str:
    """Add the device and its entry; return the device id."""
    await device.add(bench)
    await setup_entry(hass, device.entry())
    return device_for(hass, device.address).id


# ---------------------------------------------------------------------------- scenarios


@pytest.mark.link_profiles(*PROFILES)
@pytest.mark.parametrize("device", DEVICES)
async def test_discovery_flow_provisions(
    hass: HomeAssistant, bench: Bench, link_profile: LinkProfile, device: Device
) -> None:
    """Discovery -> confirm (identify, scan) -> Wi-Fi form -> provision -> entry -> status."""
    await device.add(bench)
    flow = await discovery_flow(hass, device.address)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    result = await submit_wifi(
        hass,
        result["flow_id"],
        {"ssid": "HomeNet", "password": device.password, **device.form_consent},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].state is ConfigEntryState.LOADED
    # The entry's first status refresh reads the device over the same path.
    await wait_for(lambda: _wifi_state(hass) == "connected")
    assert _sensor(hass, "_connected_ssid") == "HomeNet"


@pytest.mark.link_profiles(*PROFILES)
@pytest.mark.parametrize("device", DEVICES)
async def test_action_provision_wifi(
    hass: HomeAssistant, bench: Bench, link_profile: LinkProfile, device: Device
) -> None:
    device_id = await _loaded(hass, bench, device)
    assert _wifi_state(hass) == "disconnected"
    response = await _provision(hass, device_id, "HomeNet", device.password)
    assert response["outcome"] == "connected"
    assert response["ssid"] == "HomeNet"
    await wait_for(lambda: _wifi_state(hass) == "connected")


@pytest.mark.link_profiles(*PROFILES)
@pytest.mark.parametrize("device", DEVICES)
async def test_status_refresh(
    hass: HomeAssistant, bench: Bench, link_profile: LinkProfile, device: Device
) -> None:
    """The coordinator's periodic refresh connects again and reads the status."""
    device_id = await _loaded(hass, bench, device)
    assert _wifi_state(hass) == "disconnected"
    await _provision(hass, device_id, "HomeNet", device.password)
    link = bench.radio.link
    await wait_for(lambda: link.link(device.address) is None)  # released when idle
    connections = link.connection_count(device.address)
    await bench.radio.settle()  # the clock jump below fires every due timer, Bumble's too
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    await wait_for(lambda: link.connection_count(device.address) > connections)
    await wait_for(lambda: link.link(device.address) is None)
    await hass.async_block_till_done()
    assert _wifi_state(hass) == "connected"  # not "unavailable": the refresh succeeded
    assert _sensor(hass, "_connected_ssid") == "HomeNet"


@pytest.mark.link_profiles(*PROFILES)
@pytest.mark.parametrize("device", BLUFI_DEVICES)
async def test_custom_data_with_reply(
    hass: HomeAssistant, bench: Bench, link_profile: LinkProfile, device: Device
) -> None:
    """send_custom_data waits for the device's reply (the emulator echoes it)."""
    device_id = await _loaded(hass, bench, device)
    payload = "hello from " + link_profile.name
    response = await _call(
        hass,
        "send_custom_data",
        {"device_id": device_id, "data": payload, "encoding": "text", "wait_for_reply": True},
    )
    assert response["sent_bytes"] == len(payload)
    assert response["reply"]["text"] == payload


@pytest.mark.link_profiles(*PROFILES)
async def test_bluenet_63_character_password(
    hass: HomeAssistant,
    bench: Bench,
    link_profile: LinkProfile,
) -> None:
    """The longest WPA passphrase provisions a Bluenet daemon on every profile.

    On ``bluez-local`` bleak's ``mtu_size`` says 23; the client sizes writes from what the
    link offers (issue 10 item 2).
    """
    device_id = await _loaded(hass, bench, BLUENET)
    response = await _provision(hass, device_id, "LongPass", LONG_PASSWORD)
    assert response["outcome"] == "connected"
    assert response["ssid"] == "LongPass"

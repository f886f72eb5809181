"""Actions: provision_wifi, scan_wifi, get_status, send_custom_data, disconnect_wifi."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from bench.emulators.blufi import BlufiFaults
from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.const import DOMAIN

from .conftest import (
    BLUENET_ADDRESS,
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    make_entry,
    setup_entry,
    wait_for,
)
from .helpers import device_for

EVENT = "event.test_device_device_event"


def _device_id(hass: HomeAssistant, address: str) -> str:
    device = device_for(hass, address)
    assert device is not None
    return device.id


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = True
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


@pytest.fixture
async def blufi_device(hass: HomeAssistant, bench: Bench) -> Any:
    """A loaded BluFi entry; returns (emulator, device_id)."""
    emulator = await bench.blufi()
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    return emulator, _device_id(hass, BLUFI_ADDRESS)


@pytest.fixture
async def bluenet_device(hass: HomeAssistant, bench: Bench) -> Any:
    """A loaded Bluenet entry; returns (emulator, device_id)."""
    emulator = await bench.bluenet()
    await setup_entry(hass, make_entry(BLUENET_ADDRESS, "bluenet", version="1.0"))
    return emulator, _device_id(hass, BLUENET_ADDRESS)


async def test_services_registered(hass: HomeAssistant, bench: Bench) -> None:
    """Actions exist as soon as the integration is set up (async_setup)."""
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    for service in (
        "provision_wifi",
        "scan_wifi",
        "get_status",
        "send_custom_data",
        "disconnect_wifi",
    ):
        assert hass.services.has_service(DOMAIN, service)


async def test_provision_wifi_blufi(hass: HomeAssistant, blufi_device: Any) -> None:
    """provision_wifi joins, fires the event and updates the sensors."""
    emulator, device_id = blufi_device
    await wait_for(lambda: not emulator.connections)  # the first refresh is done
    made = emulator.connections_made
    response = await _call(
        hass, "provision_wifi", {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD}
    )
    # One connection: the device's own report is the status afterwards (no second one).
    await wait_for(lambda: not emulator.connections)
    assert emulator.connections_made == made + 1
    assert response == {
        "outcome": "connected",
        "ssid": "HomeNet",
        "hostname": None,
        "security": "blufi_v2",
    }
    assert emulator.model.sta_connected
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "provisioning_succeeded"
    assert event.attributes["ssid"] == "HomeNet"
    await wait_for(lambda: hass.states.get("sensor.test_device_wi_fi_state").state == "connected")
    assert hass.states.get("sensor.test_device_connected_ssid").state == "HomeNet"

    response = await _call(hass, "get_status", {"device_id": device_id})
    assert response["state"] == "connected"
    assert response["ssid"] == "HomeNet"
    assert response["bssid"] == "a4:cf:12:00:00:01"
    assert response["mode"] == "sta"
    assert response["failure_reason"] == "none"


async def test_provision_wifi_bssid_and_mode(hass: HomeAssistant, blufi_device: Any) -> None:
    """BluFi accepts a BSSID and a mode; the SoftAP modes need the SoftAP fields."""
    emulator, device_id = blufi_device
    await _call(
        hass,
        "provision_wifi",
        {
            "device_id": device_id,
            "ssid": "HomeNet",
            "password": PASSWORD,
            "bssid": "A4-CF-12-00-00-01",
            "mode": "sta_softap",
            "softap_ssid": "ESP-AP",
            "softap_password": "ap-password",
            "softap_channel": 6,
        },
        response=False,
    )
    assert emulator.model.sta_bssid == bytes.fromhex("a4cf12000001")
    assert emulator.model.fields["softap_ssid"][-1] == b"ESP-AP"
    assert emulator.model.fields["softap_channel"][-1] == 6
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "provision_wifi",
            {"device_id": device_id, "ssid": "HomeNet", "mode": "softap"},
        )
    assert err.value.translation_key == "invalid_softap_ssid"
    assert "softap_ssid" in str(err.value)
    # ESP-IDF's example applies 1-4 stations (and ignores more): refused before connecting.
    made = emulator.connections_made
    with pytest.raises(vol.Invalid):
        await _call(
            hass,
            "provision_wifi",
            {
                "device_id": device_id,
                "ssid": "HomeNet",
                "password": PASSWORD,
                "mode": "softap",
                "softap_ssid": "ESP-AP",
                "softap_max_connections": 5,
            },
            response=False,
        )
    assert emulator.connections_made == made


async def test_provision_wifi_failure_outcome(hass: HomeAssistant, blufi_device: Any) -> None:
    """A wrong password is a translated runtime error and a failure event."""
    _, device_id = blufi_device
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass,
            "provision_wifi",
            {"device_id": device_id, "ssid": "HomeNet", "password": "wrong-password"},
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "provision_wrong_password"
    assert "wrong-password" not in str(err.value)
    assert hass.states.get(EVENT).attributes["event_type"] == "provisioning_failed"
    assert hass.states.get("sensor.test_device_failure_reason").state == "wrong_password"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"ssid": "x" * 33}, "invalid_ssid"),
        ({"ssid": "HomeNet", "password": "short"}, "invalid_password"),
        ({"ssid": "HomeNet", "password": PASSWORD, "bssid": "nope"}, "invalid_bssid"),
    ],
)
async def test_provision_wifi_validation(
    hass: HomeAssistant, blufi_device: Any, data: dict[str, Any], key: str
) -> None:
    """Bad input never reaches the device."""
    emulator, device_id = blufi_device
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "provision_wifi", {"device_id": device_id, **data})
    assert err.value.translation_key == key
    assert emulator.model.sta_ssid == b""


async def test_provision_wifi_bluenet(hass: HomeAssistant, bluenet_device: Any) -> None:
    """Bluenet joins; its host name becomes the device's configuration URL."""
    emulator, device_id = bluenet_device
    # The password would cross the air in clear text: refused without the explicit consent.
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "provision_wifi",
            {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD},
        )
    assert err.value.translation_key == "cleartext_not_allowed"
    assert "allow_cleartext" in str(err.value)
    assert not emulator.model.joins
    response = await _call(
        hass,
        "provision_wifi",
        {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD, "allow_cleartext": True},
    )
    assert response["outcome"] == "connected"
    assert response["security"] == "cleartext"
    assert response["hostname"] == "http://192.168.178.100:6543/-/"
    device = dr.async_get(hass).async_get(device_id)
    assert device is not None
    assert device.configuration_url == "http://192.168.178.100:6543/-/"
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "provision_wifi",
            {
                "device_id": device_id,
                "ssid": "HomeNet",
                "bssid": "aa:bb:cc:dd:ee:ff",
                "allow_cleartext": True,
            },
        )
    assert err.value.translation_key == "not_supported_operation"


async def test_provision_wifi_connection_lost(hass: HomeAssistant, blufi_device: Any) -> None:
    """A dropped link during provisioning is a translated runtime error."""
    emulator, device_id = blufi_device
    emulator.model.config.faults = BlufiFaults(disconnect_at_write=6)
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass,
            "provision_wifi",
            {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD},
        )
    assert err.value.translation_key == "connection_lost"
    assert PASSWORD not in str(err.value)


async def test_scan_wifi(hass: HomeAssistant, blufi_device: Any, bluenet_device: Any) -> None:
    """scan_wifi returns the networks (RSSI where the protocol gives it)."""
    _, blufi_id = blufi_device
    _, bluenet_id = bluenet_device
    response = await _call(hass, "scan_wifi", {"device_id": blufi_id})
    assert response["networks"][0] == {"ssid": "HomeNet", "rssi": -45, "auth": None}
    assert len(response["networks"]) == 3
    response = await _call(hass, "scan_wifi", {"device_id": bluenet_id})
    assert {"ssid": "Cafe", "rssi": None, "auth": None} in response["networks"]


async def test_get_status_bluenet(hass: HomeAssistant, bluenet_device: Any) -> None:
    """get_status on a Bluenet daemon."""
    _, device_id = bluenet_device
    response = await _call(hass, "get_status", {"device_id": device_id})
    assert response["state"] == "disconnected"
    assert response["rssi"] is None


@pytest.mark.parametrize(
    ("data", "encoding", "sent"),
    [
        ("hello", "text", b"hello"),
        ("68:65:6c 6c6f", "hex", b"hello"),
        ("aGVsbG8=", "base64", b"hello"),
    ],
)
async def test_send_custom_data_with_reply(
    hass: HomeAssistant, blufi_device: Any, data: str, encoding: str, sent: bytes
) -> None:
    """Custom data is sent and the device's reply returned and fired as an event."""
    _, device_id = blufi_device
    response = await _call(
        hass,
        "send_custom_data",
        {"device_id": device_id, "data": data, "encoding": encoding, "wait_for_reply": True},
    )
    assert response == {
        "sent_bytes": len(sent),
        "reply": {"hex": sent.hex(), "base64": "aGVsbG8=", "text": "hello"},
    }
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "custom_data_received"
    assert event.attributes["data_hex"] == sent.hex()


async def test_send_custom_data_variants(hass: HomeAssistant, bench: Bench) -> None:
    """No reply wanted; a binary reply; no reply in time."""
    from bench.emulators.blufi import BlufiDeviceConfig

    from .conftest import blufi_networks

    # The reply to the first send is not awaited: it must never be taken for the second's.
    replies: list[bytes | None] = [b"stale", b"\xff\xfe", None]
    await bench.blufi(
        BlufiDeviceConfig(networks=blufi_networks(), custom_reply=lambda _: replies.pop(0))
    )
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device_id = _device_id(hass, BLUFI_ADDRESS)
    assert (
        await _call(
            hass, "send_custom_data", {"device_id": device_id, "data": "ping"}, response=False
        )
        is None
    )
    response = await _call(
        hass, "send_custom_data", {"device_id": device_id, "data": "ping", "wait_for_reply": True}
    )
    assert response["reply"]["text"] is None
    with pytest.raises(HomeAssistantError) as err:
        await _call(
            hass,
            "send_custom_data",
            {"device_id": device_id, "data": "ping", "wait_for_reply": True, "timeout": 0.5},
        )
    assert err.value.translation_key == "timeout"
    response = await _call(hass, "send_custom_data", {"device_id": device_id, "data": "x"})
    assert response == {"sent_bytes": 1}


@pytest.mark.parametrize(("data", "encoding"), [("zz", "hex"), ("***", "base64"), ("", "text")])
async def test_send_custom_data_bad_input(
    hass: HomeAssistant, blufi_device: Any, data: str, encoding: str
) -> None:
    """Undecodable or empty data is a validation error."""
    _, device_id = blufi_device
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, "send_custom_data", {"device_id": device_id, "data": data, "encoding": encoding}
        )
    assert err.value.translation_key == "invalid_custom_data"


async def test_blufi_only_actions_on_bluenet(hass: HomeAssistant, bluenet_device: Any) -> None:
    """send_custom_data and disconnect_wifi are BluFi only: a clear error."""
    _, device_id = bluenet_device
    for service, data in (
        ("send_custom_data", {"data": "hello"}),
        ("disconnect_wifi", {}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, {"device_id": device_id, **data}, response=False)
        assert err.value.translation_key == "not_supported_operation"


async def test_disconnect_wifi(hass: HomeAssistant, blufi_device: Any) -> None:
    """disconnect_wifi asks the BluFi device to leave its network."""
    emulator, device_id = blufi_device
    await _call(hass, "disconnect_wifi", {"device_id": device_id}, response=False)
    assert emulator.model.disconnect_ap_requests == 1


async def test_target_validation(hass: HomeAssistant, bench: Bench) -> None:
    """Unknown devices, other integrations' devices and unloaded entries are rejected."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device_id = _device_id(hass, BLUFI_ADDRESS)

    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "scan_wifi", {"device_id": "missing"})
    assert err.value.translation_key == "invalid_device"

    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    other_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "scan_wifi", {"device_id": other_device.id})
    assert err.value.translation_key == "invalid_device"

    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "get_status", {"device_id": device_id})
    assert err.value.translation_key == "entry_not_loaded"


async def test_runtime_failure_device_gone(hass: HomeAssistant, bench: Bench) -> None:
    """A device that no longer answers: a translated runtime error."""
    emulator = await bench.blufi()
    # The entry's device takes its timeout when it is set up; 1 s also bounds the connect and
    # the first refresh, which must not expire on a busy machine: not less.
    with patch.object(const, "CONNECT_TIMEOUT", 1.0):
        await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device_id = _device_id(hass, BLUFI_ADDRESS)
    await wait_for(lambda: not emulator.connections)
    emulator.model.config.faults = BlufiFaults(ignore_writes_from=0)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "get_status", {"device_id": device_id})
    assert err.value.translation_key == "timeout"


async def test_send_custom_data_too_long(hass: HomeAssistant, blufi_device: Any) -> None:
    """Oversized custom data is refused before connecting, naming the limit (not the MAC)."""
    emulator, device_id = blufi_device
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, "send_custom_data", {"device_id": device_id, "data": "x" * 65536}, response=False
        )
    assert err.value.translation_key == "custom_data_too_long"
    assert "65535" in str(err.value)
    assert "65536" in str(err.value)
    assert BLUFI_ADDRESS not in str(err.value)
    assert "custom_data" not in emulator.model.fields

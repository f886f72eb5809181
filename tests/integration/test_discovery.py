"""Issue 10, item 15: what counts as a BluFi advertisement; the discovery history."""

from __future__ import annotations

from bleak.backends.scanner import AdvertisementData
from homeassistant.components import bluetooth
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from bench.device import GenericTestPeripheral
from bench.emulators.blufi import BlufiDeviceConfig
from custom_components.ble_provisioning.const import (
    BLUENET_SERVICE_UUID,
    BLUFI_SERVICE_UUID,
    DOMAIN,
)
from custom_components.ble_provisioning.device import async_forget_discovery
from custom_components.ble_provisioning.protocol.discovery import (
    ESPRESSIF_COMPANY_ID,
    device_filter,
    protocol_from_service_uuids,
)
from custom_components.ble_provisioning.protocol.models import Protocol

from .conftest import PASSWORD, Bench, blufi_networks, wait_for
from .helpers import confirm_discovery, discovery_flow, flows_for, submit_wifi

GADGET = "C4:00:00:00:00:07"
LAMP = "24:0A:C4:00:00:05"
HEART_RATE = "0000180d-0000-1000-8000-00805f9b34fb"


def _advertisement(
    *,
    name: str | None = None,
    uuids: list[str] | None = None,
    manufacturer: dict[int, bytes] | None = None,
    service_data: dict[str, bytes] | None = None,
) -> AdvertisementData:
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer or {},
        service_data=service_data or {},
        service_uuids=uuids if uuids is not None else [BLUFI_SERVICE_UUID],
        tx_power=9,
        rssi=-60,
        platform_data=(),
    )


@pytest.mark.parametrize(
    ("advertisement", "protocol", "accepted"),
    [
        # ESP-IDF < 5.5.2: the example's name.
        (_advertisement(name="BLUFI_DEVICE"), Protocol.BLUFI, True),
        (_advertisement(name="my-blufi-thing", manufacturer={0x004C: b"x"}), Protocol.BLUFI, True),
        # ESP-IDF >= 5.5.2: the firmware's own name (or none), nothing else in the advertisement.
        (_advertisement(name="Kitchen lamp"), Protocol.BLUFI, True),
        (_advertisement(), Protocol.BLUFI, True),
        (_advertisement(name="Lamp", manufacturer={ESPRESSIF_COMPANY_ID: b"\x01"}), "blufi", True),
        # Gadgets that merely use the generic 0xFFFF.
        (_advertisement(name="Tag", manufacturer={0x0059: b"\x01\x02"}), Protocol.BLUFI, False),
        (_advertisement(name="Tag", service_data={BLUFI_SERVICE_UUID: b"\x01"}), "blufi", False),
        (_advertisement(name="Band", uuids=[BLUFI_SERVICE_UUID, HEART_RATE]), "blufi", False),
        # Bluenet's UUID is its own.
        (_advertisement(uuids=[BLUENET_SERVICE_UUID.upper()]), Protocol.BLUENET, True),
        (_advertisement(uuids=[HEART_RATE]), None, False),
    ],
)
def test_device_filter(
    advertisement: AdvertisementData, protocol: Protocol | None, accepted: bool
) -> None:
    """BluFi: the example's name, or an advertisement with nothing of another product."""
    assert protocol_from_service_uuids(advertisement.service_uuids) == protocol
    assert device_filter(advertisement) is accepted


async def test_gadget_with_ffff_raises_no_card(hass: HomeAssistant, bench: Bench) -> None:
    """A gadget advertising 0xFFFF with another company's data gets no discovery card (before,
    it got one and was refused only after a connection); the user step still lists it.
    """
    await bench.add(
        GenericTestPeripheral(
            address=GADGET,
            name="TAG",
            service_uuids=[BLUFI_SERVICE_UUID],
            # A company identifier no integration of Home Assistant matches on either leg.
            manufacturer_data={0x0A0B: b"\x01\x02"},
        )
    )
    await bench.blufi(
        BlufiDeviceConfig(name="Kitchen lamp", networks=blufi_networks()), address=LAMP
    )
    # The lamp (ESP-IDF >= 5.5.2: its own name, no "BLUFI") is discovered.
    flow = await discovery_flow(hass, LAMP)
    assert flow["context"]["title_placeholders"] == {"name": "Kitchen lamp"}
    await hass.async_block_till_done()
    assert not flows_for(hass, GADGET)

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pick_device"}
    )
    schema = result["data_schema"]
    assert schema is not None
    assert GADGET in schema.schema[CONF_ADDRESS].container
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: GADGET}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported_device"


def _matched(hass: HomeAssistant, address: str) -> bool:
    """Whether the bluetooth manager's match history holds ``address``."""
    matcher = bluetooth.api._get_manager(hass)._integration_matcher
    return address in matcher._matched_connectable


async def test_match_history_cleared_after_success(hass: HomeAssistant, bench: Bench) -> None:
    """After a successful setup the address leaves the match history (as improv_ble does), so a
    device reset later is discovered again; removing the entry rediscovers it at once.

    Home Assistant 2025.4 has no API that only clears the history (its rediscover also re-runs
    discovery, which refills it): there the removal's rediscovery is what brings the card back.
    """
    await bench.blufi()
    result = await confirm_discovery(hass, "24:0A:C4:00:00:01")
    assert _matched(hass, "24:0A:C4:00:00:01")
    result = await submit_wifi(hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    clears = hasattr(bluetooth, "async_clear_address_from_match_history")
    assert _matched(hass, "24:0A:C4:00:00:01") is not clears
    await hass.config_entries.async_remove(result["result"].entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: bool(flows_for(hass, "24:0A:C4:00:00:01")))


async def test_forget_discovery_per_version(hass: HomeAssistant, bench: Bench) -> None:
    """Success clears the history where Home Assistant can; removal always rediscovers."""
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            bluetooth,
            "async_clear_address_from_match_history",
            lambda _hass, address: calls.append(f"clear {address}"),
            raising=False,
        )
        patch.setattr(
            bluetooth,
            "async_rediscover_address",
            lambda _hass, address: calls.append(f"rediscover {address}"),
        )
        async_forget_discovery(hass, LAMP, rediscover=False)
        async_forget_discovery(hass, LAMP, rediscover=True)
    assert calls == [f"clear {LAMP}", f"rediscover {LAMP}"]

"""Issue 10, item 10: what a device reports about itself never breaks its entry or an action."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from bench.emulators.bluenet import BluenetConfig
from custom_components.ble_provisioning.const import CONF_HOSTNAME, DOMAIN
from custom_components.ble_provisioning.device_data import (
    accepted_hostname,
    accepted_ssid,
    accepted_version,
    configuration_url,
)

from .conftest import BLUENET_ADDRESS, PASSWORD, Bench, bluenet_networks, make_entry, setup_entry
from .helpers import device_for

HOSTILE_HOSTNAMES = [
    "ftp://x",
    "javascript://x",
    "javascript:alert(1)",
    "homeassistant://navigate",
    "http://",
    "http://user:secret@hub.local/",
    "http://fe80::1/",  # an IPv6 literal must be bracketed in a URL
    "http://hub.local:99999/",
    "http://bad_host.local/",
    "-hub.local",
    "hub local",
    "hub\u0000local",
    "fe80::1%wlan0",
    "a" * 300,
    "http://" + "a" * 300,
    "h" * 64 + ".local",
    ".".join(["a" * 63] * 4),  # 255 characters: longer than a DNS name may be
]


@pytest.mark.parametrize("reported", [*HOSTILE_HOSTNAMES, None, "", "   "])
def test_unusable_hostnames_are_dropped(reported: str | None) -> None:
    """Nothing but http(s) URLs with a valid host and valid host names become a URL."""
    assert configuration_url(reported) is None
    assert accepted_hostname(reported) is None


@pytest.mark.parametrize(
    ("reported", "url"),
    [
        ("hub.local", "http://hub.local"),
        ("hub.local.", "http://hub.local."),
        ("192.168.1.20", "http://192.168.1.20"),
        ("fe80::1", "http://[fe80::1]"),
        ("2001:db8::0:1", "http://[2001:db8::1]"),
        ("http://192.168.178.100:6543/-/", "http://192.168.178.100:6543/-/"),
        ("https://[2001:db8::1]:8443/ui", "https://[2001:db8::1]:8443/ui"),
        ("  https://hub.local/  ", "https://hub.local/"),
    ],
)
def test_usable_hostnames(reported: str, url: str) -> None:
    """Valid host names, IP addresses (IPv6 bracketed) and http(s) URLs."""
    assert configuration_url(reported) == url
    assert accepted_hostname(reported) == reported.strip()


def test_ssid_and_version_bounds() -> None:
    """SSIDs are 1 to 32 bytes; a protocol version is short printable text."""
    assert accepted_ssid("HomeNet") == "HomeNet"
    assert accepted_ssid("é" * 16) == "é" * 16  # 32 bytes
    assert accepted_ssid("é" * 17) is None
    assert accepted_ssid("\ud800") is None  # not encodable
    assert accepted_ssid("") is None
    assert accepted_version("1.4") == "1.4"
    assert accepted_version("1" * 33) is None
    assert accepted_version("1.0\n") == "1.0"
    assert accepted_version("1.\x000") is None


@pytest.mark.parametrize("hostname", ["ftp://x", "javascript://x", "fe80::1", "a" * 300])
async def test_device_chosen_hostname_never_breaks_the_entry(
    hass: HomeAssistant, bench: Bench, hostname: str
) -> None:
    """A daemon reporting any host name: the entry and its entities set up, actions work.

    Before the fix, ``ftp://x`` or 300 bytes made entity setup fail (the device registry
    refuses the configuration URL) and ``provision_wifi`` raise a raw ``ValueError`` after
    the device had already joined.
    """
    await bench.bluenet(BluenetConfig(networks=bluenet_networks(), hostname_template=hostname))
    entry = await setup_entry(hass, make_entry(BLUENET_ADDRESS, "bluenet", version="1.0"))
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.test_device_wi_fi_state") is not None
    device = device_for(hass, BLUENET_ADDRESS)
    expected_url = configuration_url(hostname)
    assert device.configuration_url == expected_url
    assert entry.data.get(CONF_HOSTNAME) == accepted_hostname(hostname)

    response = await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {"device_id": device.id, "ssid": "HomeNet", "password": PASSWORD, "allow_cleartext": True},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["outcome"] == "connected"
    assert response["hostname"] == accepted_hostname(hostname)
    status = await hass.services.async_call(
        DOMAIN, "get_status", {"device_id": device.id}, blocking=True, return_response=True
    )
    assert status is not None
    assert status["hostname"] == accepted_hostname(hostname)
    assert device_for(hass, BLUENET_ADDRESS).configuration_url == expected_url


async def test_hostname_change_updates_the_device_page(hass: HomeAssistant, bench: Bench) -> None:
    """A usable host name reported later becomes the configuration URL; a bad one is ignored."""
    emulator = await bench.bluenet()
    entry = await setup_entry(hass, make_entry(BLUENET_ADDRESS, "bluenet", version="1.0"))
    coordinator = entry.runtime_data
    assert device_for(hass, BLUENET_ADDRESS).configuration_url is None  # not on Wi-Fi yet
    emulator.config.hostname_template = "http://hub.local:6543/"
    emulator.model.hostname = "http://hub.local:6543/"
    await coordinator.async_refresh()
    assert device_for(hass, BLUENET_ADDRESS).configuration_url == "http://hub.local:6543/"
    emulator.model.hostname = "javascript://x"
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert device_for(hass, BLUENET_ADDRESS).configuration_url == "http://hub.local:6543/"

"""Value sizes as the link offers them, on the ``ideal`` and ``bluez-local`` link profiles.

bleak's BlueZ backend reports ``mtu_size == 23`` unless the MTU was acquired, while each
characteristic's ``max_write_without_response_size`` follows the MTU BlueZ negotiated (517 on
the bench). The client must size writes, reads and notifications from what the link offers
(issue 10 item 2), never from ``mtu_size`` alone.
"""

from __future__ import annotations

from bleak import BleakClient
import pytest

from bench.emulators.bluenet import CREDENTIALS_UUID as EMU_CREDENTIALS_UUID, WifiNetwork
from bench.link.profiles import BLUEZ_LOCAL, IDEAL, LinkProfile
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.bluenet import (
    BluenetState,
    ConnectionState,
    ValueTooLongError,
)
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome

from .conftest import Start, fast_config, find_device, premise

URL = "http://192.168.178.100:6543/-/"  # 30 bytes
LONG_PASSWORD = "L" * 63  # the longest WPA passphrase: one write of 63 bytes
SSID_25 = "twenty-five-byte-ssid-abc"


async def _reported_mtu(radio: Radio, address: str) -> int:
    """What bleak's ``mtu_size`` says on this profile (a plain bleak client)."""
    async with BleakClient(await find_device(radio, address), backend=radio.client_backend) as raw:
        return int(raw.mtu_size)


@pytest.mark.link_profiles(IDEAL, BLUEZ_LOCAL)
async def test_63_character_password_provisions(
    link_profile: LinkProfile, radio: Radio, start_daemon: Start
) -> None:
    config = fast_config(networks=[WifiNetwork("LongPass", LONG_PASSWORD)])
    emulator, client = await start_daemon(config, connect=False)
    reported = await _reported_mtu(radio, emulator.address)
    premise(reported == (23 if link_profile.name == BLUEZ_LOCAL else 517), "bleak's mtu_size")
    await client.connect()
    assert client.mtu == 517
    assert client.max_value_length == 512
    result = await client.provision("LongPass", LONG_PASSWORD, timeout=5.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert emulator.model.writes[-1] == (EMU_CREDENTIALS_UUID, LONG_PASSWORD.encode())
    # Reads are sized from the link too: the 30-byte URL is whole, not "may be truncated".
    assert (result.hostname, result.hostname_truncated) == (URL, False)
    info = await client.read_device_info()
    assert (info.hostname, info.hostname_truncated) == (URL, False)


@pytest.mark.link_profiles(IDEAL, BLUEZ_LOCAL)
async def test_a_real_mtu_of_23_still_refuses_long_values(
    link_profile: LinkProfile, start_daemon: Start
) -> None:
    emulator, client = await start_daemon(max_mtu=23)
    assert client.mtu == 23
    assert client.max_value_length == 20
    with pytest.raises(ValueTooLongError):
        await client.provision("home", LONG_PASSWORD, timeout=2.0)
    assert emulator.model.writes == []
    assert client.is_connected


@pytest.mark.link_profiles(IDEAL, BLUEZ_LOCAL)
async def test_state_read_at_mtu_23_is_cut_at_mtu_minus_1(
    link_profile: LinkProfile, start_daemon: Start
) -> None:
    # 1 + 25 bytes: the Read Response carries 22, the daemon repeats them for every Read Blob.
    config = fast_config(
        networks=[WifiNetwork(SSID_25, "password1")], initial_profile=(SSID_25, "password1")
    )
    _emulator, client = await start_daemon(config, max_mtu=23)
    state = await client.get_state()
    assert state == ConnectionState(BluenetState.CONNECTED, SSID_25[:21], ssid_truncated=True)
    assert state.carries(SSID_25)

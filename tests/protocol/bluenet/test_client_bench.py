"""BluenetClient against the Bluenet daemon emulator, over the real bench radio.

Timers are made fast through the emulator's configuration (``BluenetTimings.fast``) and the
client's public keyword arguments; nothing in the client is patched.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import logging

from bleak import BleakClient
from bleak.exc import BleakError
import pytest

from bench.advertising import parse_advertising_data
from bench.emulators.bluenet import (
    CREDENTIALS_UUID as EMU_CREDENTIALS_UUID,
    SSID_UUID as EMU_SSID_UUID,
    Faults,
    JoinBehaviour,
    WifiNetwork,
)
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.bluenet import (
    BluenetConnectionError,
    BluenetDecodeError,
    BluenetState,
    BluenetStillScanningError,
    BluenetTimeoutError,
    ConnectionState,
    InvalidCredentialsError,
    NotBluenetDeviceError,
    ReadValue,
    ValueTooLongError,
)
from custom_components.ble_provisioning.protocol.bluenet.client import BluenetClient
from custom_components.ble_provisioning.protocol.bluenet.const import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    SERVICE_UUID,
    SSID_UUID,
    VERSION_UUID,
)
from custom_components.ble_provisioning.protocol.bluenet.errors import as_bluenet_error
from custom_components.ble_provisioning.protocol.errors import (
    DeviceClosedError,
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome

from .conftest import FAST, Start, fast_config, find_device

URL = "http://192.168.178.100:6543/-/"  # 30 bytes: does not fit ATT_MTU 23


def is_connected(client: BluenetClient) -> bool:
    """Read the property afresh (keeps mypy from narrowing it across awaits)."""
    return client.is_connected


async def wait_for(predicate: object, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` is true."""
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling emulator state
            await asyncio.sleep(0.005)


# ---------------------------------------------------------------- profile and advertisement


async def test_advertises_only_the_service_uuid(start_daemon: Start) -> None:
    emulator, _client = await start_daemon(connect=False)
    parsed = parse_advertising_data(emulator.advertising_data)
    assert parsed.service_uuids == [SERVICE_UUID]
    assert parsed.local_name is None
    assert parsed.manufacturer_data == {}
    assert parsed.tx_power is None
    assert len(emulator.advertising_data) == 21


async def test_gatt_profile_properties(radio: Radio, start_daemon: Start) -> None:
    emulator, _client = await start_daemon(connect=False)
    device = await find_device(radio, emulator.address)
    async with BleakClient(device, backend=radio.client_backend) as raw:
        service = raw.services.get_service(SERVICE_UUID)
        assert service is not None
        props = {char.uuid: sorted(char.properties) for char in service.characteristics}
    assert props == {
        AVAILABLE_NETWORKS_UUID: ["notify"],
        CONNECTION_STATE_UUID: ["notify", "read"],
        HOSTNAME_UUID: ["notify", "read"],
        VERSION_UUID: ["read"],
        SSID_UUID: ["write"],
        CREDENTIALS_UUID: ["write"],
    }


async def test_not_a_bluenet_device(radio: Radio) -> None:
    from bench.device import GenericTestPeripheral

    other = GenericTestPeripheral(address="B0:0B:1E:00:00:F0")
    await radio.add_peripheral(other)
    from bleak import BleakScanner

    device = await BleakScanner.find_device_by_address(
        other.address, timeout=30.0, backend=radio.scanner_backend
    )
    assert device is not None
    client = BluenetClient(device, backend=radio.client_backend, timeout=30.0)
    with pytest.raises(NotBluenetDeviceError):
        await client.connect()
    assert not client.is_connected


# ---------------------------------------------------------------- reads and state


async def test_read_version_and_hostname(start_daemon: Start) -> None:
    _emulator, client = await start_daemon(fast_config(initial_profile=("home", "correct horse")))
    assert client.mtu > 100
    info = await client.read_device_info()
    assert info.version == "1.0"
    assert info.hostname == URL
    assert info.hostname_truncated is False
    value, truncated = await client.read_hostname()
    assert (value, truncated) == (URL, False)


async def test_hostname_empty_without_ip(start_daemon: Start) -> None:
    _emulator, client = await start_daemon()
    assert await client.read_hostname() == ReadValue("", False)
    assert await client.get_state() == ConnectionState(BluenetState.DISCONNECTED, None)


async def test_hostname_truncated_at_mtu_23(start_daemon: Start) -> None:
    _emulator, client = await start_daemon(
        fast_config(initial_profile=("home", "correct horse")), max_mtu=23
    )
    assert client.mtu == 23
    # A read carries MTU - 1 bytes; the daemon's repetition of them in a long read is undone.
    hostname = await client.read_hostname()
    assert hostname.value == URL[:22]
    assert hostname.truncated is True
    info = await client.read_device_info()
    assert info.hostname_truncated is True
    assert info.version == "1.0"


async def test_get_state_connected(start_daemon: Start) -> None:
    _emulator, client = await start_daemon(fast_config(initial_profile=("home", "correct horse")))
    assert client.last_state is None
    await client.connect()  # already connected: nothing happens
    assert await client.get_state() == ConnectionState(BluenetState.CONNECTED, "home")
    assert client.last_state == ConnectionState(BluenetState.CONNECTED, "home")


async def test_state_and_hostname_callbacks(start_daemon: Start) -> None:
    _emulator, client = await start_daemon()
    states: list[ConnectionState] = []
    hostnames: list[ReadValue] = []
    unsubscribe = client.register_state_callback(states.append)
    client.register_hostname_callback(hostnames.append)
    result = await client.provision("home", "correct horse", timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    await wait_for(lambda: hostnames)
    assert states == [
        ConnectionState(BluenetState.CONNECTING, "home"),
        ConnectionState(BluenetState.CONNECTED, "home"),
    ]
    assert hostnames == [ReadValue(URL, False)]
    unsubscribe()
    unsubscribe()  # idempotent


# ---------------------------------------------------------------- network list


def _env(*ssids: str) -> list[WifiNetwork]:
    return [WifiNetwork(ssid, "password1") for ssid in ssids]


async def test_scan_networks_first_repeat_ends(start_daemon: Start) -> None:
    emulator, client = await start_daemon(fast_config(networks=_env("home", "cafe", "attic")))
    networks = await client.scan_networks(timeout=30.0)
    assert networks == ["home", "cafe", "attic"]
    # The stream stops with the scan (the client unsubscribes).
    assert emulator.model.networks_notifying is False


async def test_scan_networks_dedupes_access_points(start_daemon: Start) -> None:
    emulator, client = await start_daemon(
        fast_config(networks=_env("home", "cafe", "home", "cafe", "attic"))
    )
    assert await client.scan_networks(timeout=30.0) == ["home", "cafe", "attic"]
    sent = emulator.model.networks_notified()
    assert sent[:4] == [b"home", b"cafe", b"attic", b"home"]


async def test_scan_hidden_ssid_cuts_the_list(start_daemon: Start) -> None:
    emulator, client = await start_daemon(fast_config(networks=_env("home", "", "cafe")))
    assert await client.scan_networks(timeout=30.0) == ["home"]
    assert b"cafe" not in emulator.model.networks_notified()
    assert b"" not in emulator.model.networks_notified()


async def test_scan_empty_environment_says_still_scanning(start_daemon: Start) -> None:
    # No network in range looks like a daemon before its first scan: both send nothing.
    emulator, client = await start_daemon(fast_config(networks=[]))
    with pytest.raises(BluenetStillScanningError) as info:
        await client.scan_networks(timeout=60.0, stall_timeout=0.2)
    assert info.value.error_key == "still_scanning"
    assert "no network is in range" in str(info.value)
    assert client.is_connected  # not a link failure: the link is kept
    assert emulator.model.networks_notified() == []
    assert not emulator.model.networks_notifying
    # Two subscriptions (the second after the first stalled), each given up.
    assert emulator.model.network_chains_at_start == [1, 1]


async def test_scan_picks_up_a_network_appearing_while_polling(start_daemon: Start) -> None:
    emulator, client = await start_daemon(fast_config(networks=[]))
    scan = asyncio.ensure_future(client.scan_networks(timeout=30.0, stall_timeout=5.0))
    await wait_for(lambda: emulator.model.networks_notifying)  # polling an empty list
    emulator.model.set_networks(_env("late"))
    assert await scan == ["late"]


async def test_scan_resubscribes_once_after_stopped_stream(start_daemon: Start) -> None:
    config = fast_config(
        networks=_env("a", "b", "c", "d"),
        faults=Faults(stop_stream_after_network_notifications=2),
    )
    emulator, client = await start_daemon(config)
    networks = await client.scan_networks(timeout=30.0, stall_timeout=1.0)
    assert networks == ["a", "b", "c", "d"]
    # The first stream died after "a", "b"; the re-subscription restarted it from the top.
    assert emulator.model.networks_notified()[:6] == [b"a", b"b", b"a", b"b", b"c", b"d"]


async def test_scan_stream_stopping_twice_returns_partial_list(start_daemon: Start) -> None:
    config = fast_config(networks=_env("a", "b", "c", "d"))
    emulator, client = await start_daemon(config)
    original = emulator.model._send_next_ssid

    def dying() -> bool:
        keep = original()
        emulator.model.stop_network_stream()  # every chain dies after one SSID
        return keep and False

    emulator.model._send_next_ssid = dying  # type: ignore[method-assign]
    networks = await client.scan_networks(timeout=30.0, stall_timeout=1.0)
    assert networks == ["a"]
    assert client.is_connected


async def test_back_to_back_scans_do_not_double_the_stream(start_daemon: Start) -> None:
    # Slower list timers so that the daemon's 100 ms tick can notice (or miss) the unsubscribe.
    timings = replace(FAST, notify_interval=0.1, list_pause=0.15)
    emulator, client = await start_daemon(
        fast_config(networks=_env("a", "b", "c"), timings=timings)
    )
    assert await client.scan_networks(timeout=30.0) == ["a", "b", "c"]
    mark = len(emulator.model.networks_notified())
    assert await client.scan_networks(timeout=30.0) == ["a", "b", "c"]
    assert emulator.model.networks_notified()[mark : mark + 4] == [b"a", b"b", b"c", b"a"]
    # The client waited for the daemon's old timer chain to die before subscribing again.
    assert emulator.model.network_chains_at_start == [1, 1]


async def test_quick_resubscribe_doubles_the_daemon_stream(
    radio: Radio, start_daemon: Start
) -> None:
    # Bug 6 of the daemon, reproduced by the emulator: StopNotify + StartNotify within one tick.
    timings = replace(FAST, notify_interval=0.1, list_pause=5.0)
    emulator, _client = await start_daemon(
        fast_config(networks=_env("a", "b", "c", "d"), timings=timings), connect=False
    )
    received: list[bytes] = []
    async with BleakClient(
        await find_device(radio, emulator.address), backend=radio.client_backend
    ) as raw:
        await raw.start_notify(AVAILABLE_NETWORKS_UUID, lambda _c, d: received.append(bytes(d)))
        await wait_for(lambda: received == [b"a"])
        await raw.stop_notify(AVAILABLE_NETWORKS_UUID)
        await raw.start_notify(AVAILABLE_NETWORKS_UUID, lambda _c, d: received.append(bytes(d)))
        await wait_for(lambda: len(received) >= 5)
    # The old chain survived: two chains share the "sent" list and send twice as fast.
    assert emulator.model.network_chains_at_start == [1, 2]
    assert received[:5] == [b"a", b"a", b"b", b"c", b"d"]


async def test_scan_sees_rescan_changes(start_daemon: Start) -> None:
    emulator, client = await start_daemon(fast_config(networks=_env("old", "keep")))
    assert await client.scan_networks(timeout=30.0) == ["old", "keep"]
    emulator.model.set_networks(_env("keep", "new"))
    # "new" appears at the next rescan (200 ms); "old" is dropped after 600 ms unseen.
    await wait_for(lambda: "old" not in emulator.model.found_ssids)
    assert await client.scan_networks(timeout=30.0) == ["keep", "new"]


async def test_scan_disconnect_raises_typed_error(start_daemon: Start) -> None:
    config = fast_config(
        networks=_env("a", "b", "c"), faults=Faults(disconnect_after_network_notifications=2)
    )
    _emulator, client = await start_daemon(config)
    with pytest.raises(BluenetConnectionError) as info:
        await client.scan_networks(timeout=30.0)
    assert isinstance(info.value, ProvisioningConnectionError)
    assert not client.is_connected


# ---------------------------------------------------------------- provisioning outcomes


async def test_provision_success(start_daemon: Start) -> None:
    emulator, client = await start_daemon()
    result = await client.provision("home", "correct horse", timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert result.success
    assert result.ssid == "home"
    assert result.hostname == URL
    # states_seen also holds the one state read, whose response may arrive after the first
    # notification (its value is sampled earlier): check the notified 2 -> 3 order only.
    states = [s.state for s in result.states_seen]
    assert states[-1] is BluenetState.CONNECTED
    assert BluenetState.CONNECTING in states[:-1]
    assert emulator.model.states_notified()[-2:] == [b"\x02home", b"\x03home"]
    assert emulator.model.writes == [
        (EMU_SSID_UUID, b"home"),
        (EMU_CREDENTIALS_UUID, b"correct horse"),
    ]
    assert "correct horse" not in repr(result)


async def test_provision_success_after_leading_disconnected(start_daemon: Start) -> None:
    config = fast_config(
        networks=[WifiNetwork("home", "correct horse"), WifiNetwork("old", "old password")],
        initial_profile=("old", "old password"),
    )
    emulator, client = await start_daemon(config)
    assert await client.get_state() == ConnectionState(BluenetState.CONNECTED, "old")
    result = await client.provision("home", "correct horse", timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert emulator.model.states_notified() == [b"\x01", b"\x02home", b"\x03home"]


async def test_provision_open_network(start_daemon: Start) -> None:
    emulator, client = await start_daemon(fast_config(networks=[WifiNetwork("guest")]))
    result = await client.provision("guest", None, timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert emulator.model.writes[-1] == (EMU_CREDENTIALS_UUID, b"")


async def test_provision_raw_hex_psk(start_daemon: Start) -> None:
    import hashlib

    psk = hashlib.pbkdf2_hmac("sha1", b"correct horse", b"home", 4096, 32).hex()
    _emulator, client = await start_daemon()
    result = await client.provision("home", psk.upper(), timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED


async def test_provision_utf8_ssid(start_daemon: Start) -> None:
    ssid = "Café ☕ Wi-Fi"
    emulator, client = await start_daemon(fast_config(networks=[WifiNetwork(ssid, "motdepasse")]))
    result = await client.provision(ssid, "motdepasse", timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert emulator.model.writes[0] == (EMU_SSID_UUID, ssid.encode())


async def test_provision_wrong_password(start_daemon: Start) -> None:
    emulator, client = await start_daemon()
    result = await client.provision("home", "wrong password", timeout=30.0)
    assert result.outcome is ProvisionOutcome.WRONG_PASSWORD
    assert not result.success
    assert result.hostname is None
    # The daemon keeps re-activating the profile at each rescan: 2 <-> 1 bouncing.
    await wait_for(lambda: len(emulator.model.states_notified()) >= 6)
    assert emulator.model.states_notified()[:4] == [b"\x02home", b"\x01", b"\x02home", b"\x01"]


async def test_provision_unknown_network_fails_like_wrong_password(start_daemon: Start) -> None:
    _emulator, client = await start_daemon()
    result = await client.provision("elsewhere", "password1", timeout=30.0)
    assert result.outcome is ProvisionOutcome.WRONG_PASSWORD


async def test_provision_no_internet(start_daemon: Start) -> None:
    config = fast_config(networks=[WifiNetwork("home", "correct horse", JoinBehaviour.NO_INTERNET)])
    emulator, client = await start_daemon(config)
    result = await client.provision("home", "correct horse", timeout=30.0, connecting_timeout=0.3)
    assert result.outcome is ProvisionOutcome.NO_INTERNET
    assert ConnectionState(BluenetState.CONNECTING, "home") in result.states_seen
    assert emulator.model.states_notified() == [b"\x02home"]  # and nothing after


async def test_provision_other_uplink_with_bluenet_ssid(start_daemon: Start) -> None:
    config = fast_config(
        networks=[WifiNetwork("home", "correct horse", JoinBehaviour.OTHER_UPLINK)]
    )
    emulator, client = await start_daemon(config)
    result = await client.provision("home", "correct horse", timeout=30.0)
    # State 2 -> 3 with the SSID just sent, but Wi-Fi has no address: the host name is empty.
    assert emulator.model.states_notified() == [b"\x02home", b"\x03home"]
    assert result.outcome is ProvisionOutcome.OTHER_UPLINK
    assert result.hostname == ""


@pytest.mark.parametrize(("uplink_ssid", "payload"), [("eth0", b"\x03eth0"), (None, b"\x03")])
async def test_provision_other_uplink_other_or_no_ssid(
    start_daemon: Start, uplink_ssid: str | None, payload: bytes
) -> None:
    config = fast_config(
        networks=[
            WifiNetwork(
                "home", "correct horse", JoinBehaviour.OTHER_UPLINK, uplink_ssid=uplink_ssid
            )
        ]
    )
    emulator, client = await start_daemon(config)
    result = await client.provision("home", "correct horse", timeout=30.0, connecting_timeout=20.0)
    assert result.outcome is ProvisionOutcome.OTHER_UPLINK
    assert emulator.model.states_notified()[-1] == payload
    assert result.hostname is None


async def test_provision_ethernet_uplink_never_changes_state(start_daemon: Start) -> None:
    config = fast_config(ethernet_uplink=True, initial_profile=("old", "old password"))
    emulator, client = await start_daemon(config)
    assert await client.get_state() == ConnectionState(BluenetState.CONNECTED, "old")
    result = await client.provision("home", "correct horse", timeout=30.0, connecting_timeout=0.3)
    assert result.outcome is ProvisionOutcome.OTHER_UPLINK
    assert emulator.model.states_notified() == []  # NM's global state never changed
    assert result.states_seen == (ConnectionState(BluenetState.CONNECTED, "old"),)


async def test_provision_frozen_join_times_out(start_daemon: Start) -> None:
    config = fast_config(networks=[WifiNetwork("home", "correct horse", JoinBehaviour.FREEZE)])
    emulator, client = await start_daemon(config)
    result = await client.provision("home", "correct horse", timeout=0.5)
    assert result.outcome is ProvisionOutcome.TIMEOUT
    assert emulator.model.frozen
    assert emulator.model.states_notified() == []
    assert client.is_connected


async def test_provision_requires_connection(start_daemon: Start) -> None:
    emulator, client = await start_daemon(connect=False)
    with pytest.raises(BluenetConnectionError):
        await client.provision("home", "correct horse")
    assert emulator.model.writes == []


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ssid", "password"),
    [
        ("home", "short"),
        ("home", "x" * 64),
        ("home", "x" * 65),
        ("home", "é" * 40),
        ("home", "tab\tinside"),
        ("", "correct horse"),
        ("x" * 33, "correct horse"),
        ("é" * 17, "correct horse"),
    ],
)
async def test_invalid_credentials_write_nothing(
    start_daemon: Start, ssid: str, password: str
) -> None:
    emulator, client = await start_daemon()
    with pytest.raises(InvalidCredentialsError):
        await client.provision(ssid, password, timeout=2.0)
    assert emulator.model.writes == []
    assert emulator.model.joins == []
    assert not emulator.model.frozen
    assert client.is_connected


async def test_values_longer_than_mtu_are_refused(start_daemon: Start) -> None:
    emulator, client = await start_daemon(max_mtu=23)
    with pytest.raises(ValueTooLongError):
        await client.provision("x" * 21, "correct horse", timeout=2.0)
    with pytest.raises(ValueTooLongError):
        await client.provision("home", "a much longer password!", timeout=2.0)
    assert emulator.model.writes == []
    # Values that fit go through at MTU 23.
    result = await client.provision("home", "correct horse", timeout=30.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert result.hostname_truncated is True


# ---------------------------------------------------------------- daemon quirks (raw writes)


async def test_credentials_without_ssid_delete_the_profile(
    radio: Radio, start_daemon: Start
) -> None:
    config = fast_config(initial_profile=("home", "correct horse"))
    emulator, client = await start_daemon(config)
    assert await client.get_state() == ConnectionState(BluenetState.CONNECTED, "home")
    await client.disconnect()
    await wait_for(lambda: not emulator.is_connected)
    # Only a raw client can do this: BluenetClient always writes the SSID first.
    notified: list[bytes] = []
    async with BleakClient(
        await find_device(radio, emulator.address), backend=radio.client_backend
    ) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, lambda _c, data: notified.append(bytes(data)))
        await raw.write_gatt_char(CREDENTIALS_UUID, b"whatever", response=True)
        await wait_for(lambda: notified)
        await asyncio.sleep(0.1)
    assert notified == [b"\x01"]
    assert emulator.model.profile is None
    assert emulator.model.joins == [None]
    await client.connect()
    assert await client.get_state() == ConnectionState(BluenetState.DISCONNECTED, None)


async def test_strict_utf8_on_writes(radio: Radio, start_daemon: Start) -> None:
    emulator, _client = await start_daemon(connect=False)
    async with BleakClient(
        await find_device(radio, emulator.address), backend=radio.client_backend
    ) as raw:
        with pytest.raises(BleakError):
            await raw.write_gatt_char(SSID_UUID, b"caf\xe9", response=True)
        with pytest.raises(BleakError):
            await raw.write_gatt_char(CREDENTIALS_UUID, b"\xff" * 8, response=True)
    assert emulator.model.writes == []
    assert emulator.model.written_ssid is None


async def test_ssid_persists_across_connections(radio: Radio, start_daemon: Start) -> None:
    emulator, client = await start_daemon(connect=False)
    device = await find_device(radio, emulator.address)
    async with BleakClient(device, backend=radio.client_backend) as raw:
        await raw.write_gatt_char(SSID_UUID, b"home", response=True)
    async with BleakClient(device, backend=radio.client_backend) as raw:
        await raw.write_gatt_char(CREDENTIALS_UUID, b"correct horse", response=True)
    await client.connect()
    await wait_for(lambda: emulator.model.char_state == 3)
    assert await client.get_state() == ConnectionState(BluenetState.CONNECTED, "home")
    assert emulator.model.joins == ["home"]


async def test_invalid_psk_freezes_the_daemon(radio: Radio, start_daemon: Start) -> None:
    config = fast_config(networks=_env("home", "cafe"), initial_profile=("home", "password1"))
    emulator, client = await start_daemon(config)
    assert await client.scan_networks(timeout=30.0) == ["home", "cafe"]
    await client.disconnect()
    await wait_for(lambda: not emulator.is_connected)
    async with BleakClient(
        await find_device(radio, emulator.address), backend=radio.client_backend
    ) as raw:
        await raw.write_gatt_char(SSID_UUID, b"home", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"short", response=True)
    await wait_for(lambda: emulator.model.frozen)
    scans = emulator.model.scans
    emulator.model.set_networks(_env("new"))
    await asyncio.sleep(0.5)  # two and a half rescan intervals
    assert emulator.model.scans == scans  # the scan loop no longer runs
    await client.connect()
    # Only the deletion of the profile was reported; the list is frozen.
    assert await client.get_state() == ConnectionState(BluenetState.DISCONNECTED, None)
    assert await client.scan_networks(timeout=30.0) == ["home", "cafe"]


async def test_second_credentials_write_while_joining_is_ignored(
    radio: Radio, start_daemon: Start
) -> None:
    # The join must still be running when the second write arrives: give its first step a
    # delay no scheduling hiccup reaches (the fast 2 ms one is over before a loaded CPU sends
    # the next write), and check that premise on the emulator before relying on it.
    join_delay = 1.0
    config = fast_config(
        networks=[WifiNetwork("home", "correct horse")],
        timings=replace(FAST, join_delay=join_delay),
    )
    emulator, _client = await start_daemon(config, connect=False)
    async with BleakClient(
        await find_device(radio, emulator.address), backend=radio.client_backend
    ) as raw:
        await raw.write_gatt_char(SSID_UUID, b"home", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"correct horse", response=True)
        assert emulator.model.is_joining, "first join already over: premise not met"
        await raw.write_gatt_char(CREDENTIALS_UUID, b"another one", response=True)
        assert emulator.model.is_joining, "first join already over: premise not met"
    assert emulator.model.joins == ["home"]
    assert len(emulator.model.writes) == 3
    await wait_for(lambda: emulator.model.char_state == 3, timeout=join_delay + 4.0)
    assert emulator.model.joins == ["home"]


async def test_notifications_cut_at_mtu(start_daemon: Start) -> None:
    long_ssid = "n" * 32
    emulator, client = await start_daemon(
        fast_config(networks=[WifiNetwork(long_ssid, "password1")]), max_mtu=23
    )
    assert await client.scan_networks(timeout=30.0) == ["n" * 20]
    assert emulator.model.networks_notified()[0] == long_ssid.encode()  # sent in full, cut by ATT


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("writes", [1, 2])
async def test_disconnect_during_provision_writes(start_daemon: Start, writes: int) -> None:
    emulator, client = await start_daemon(
        fast_config(faults=Faults(disconnect_after_writes=writes))
    )
    with pytest.raises(BluenetConnectionError):
        await client.provision("home", "correct horse", timeout=30.0)
    assert not client.is_connected
    await wait_for(lambda: not emulator.is_connected)


async def test_disconnect_while_waiting_for_state(start_daemon: Start) -> None:
    config = fast_config(
        networks=[WifiNetwork("home", "correct horse", JoinBehaviour.NO_INTERNET)],
        faults=Faults(disconnect_after_state_notifications=1),
    )
    _emulator, client = await start_daemon(config)
    # Without noticing the drop, the client would return NO_INTERNET after 20 s.
    with pytest.raises(BluenetConnectionError) as info:
        await client.provision("home", "correct horse", timeout=30.0, connecting_timeout=20.0)
    assert isinstance(info.value, ProvisioningError)
    assert not client.is_connected


async def test_hung_read_times_out_and_closes(start_daemon: Start) -> None:
    emulator, client = await start_daemon(timeout=1.0)  # bounds the connect too: not less
    emulator.config.faults.hang_reads = True
    with pytest.raises(BluenetTimeoutError) as info:
        await client.read_version()
    assert isinstance(info.value, ProvisioningTimeoutError)
    assert not client.is_connected
    await wait_for(lambda: not emulator.is_connected)


async def test_hung_write_times_out_and_closes(start_daemon: Start) -> None:
    emulator, client = await start_daemon(timeout=1.0)  # bounds the connect too: not less
    emulator.config.faults.hang_writes = True
    with pytest.raises(BluenetTimeoutError):
        await client.provision("home", "correct horse", timeout=30.0)
    assert not client.is_connected
    assert emulator.model.writes == []


async def test_reads_after_disconnect_raise_typed_error(start_daemon: Start) -> None:
    emulator, client = await start_daemon()
    await emulator.disconnect()
    await wait_for(lambda: not client.is_connected)
    with pytest.raises(BluenetConnectionError):
        await client.read_version()
    with pytest.raises(BluenetConnectionError):
        await client.get_state()


async def test_context_manager_closes(start_daemon: Start) -> None:
    emulator, client = await start_daemon(connect=False)
    async with client:
        assert client.is_connected
        assert await client.read_version() == "1.0"
    assert not is_connected(client)
    await wait_for(lambda: not emulator.is_connected)


async def test_cancelled_provision_closes_the_link(start_daemon: Start) -> None:
    config = fast_config(networks=[WifiNetwork("home", "correct horse", JoinBehaviour.NO_INTERNET)])
    emulator, client = await start_daemon(config)
    task = asyncio.ensure_future(
        client.provision("home", "correct horse", timeout=60.0, connecting_timeout=50.0)
    )
    await wait_for(lambda: emulator.model.states_notified() == [b"\x02home"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.is_connected
    await wait_for(lambda: not emulator.is_connected)


async def test_joined_but_host_name_unreadable(
    start_daemon: Start, caplog: pytest.LogCaptureFixture
) -> None:
    # From the credentials write on, reads get no answer: the join is still reported.
    emulator, client = await start_daemon(timeout=0.5)
    write = emulator.model.write

    def write_then_hang_reads(uuid: str, value: bytes) -> None:
        write(uuid, value)
        if uuid == EMU_CREDENTIALS_UUID:
            emulator.config.faults.hang_reads = True

    emulator.model.write = write_then_hang_reads  # type: ignore[method-assign]
    result = await client.provision("home", "correct horse", timeout=5.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert (result.hostname, result.hostname_truncated) == (None, False)
    assert "joined, but reading host name failed" in caplog.text


async def test_callbacks_that_raise_are_logged(
    start_daemon: Start, caplog: pytest.LogCaptureFixture
) -> None:
    _emulator, client = await start_daemon()

    def broken(_value: object) -> None:
        raise RuntimeError("callback bug")

    client.register_state_callback(broken)
    client.register_hostname_callback(broken)
    result = await client.provision("home", "correct horse", timeout=5.0)
    assert result.outcome is ProvisionOutcome.CONNECTED
    await wait_for(lambda: "host name callback failed" in caplog.text)
    assert "state callback failed" in caplog.text


async def test_malformed_host_name_notification_is_ignored(
    start_daemon: Start, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, client = await start_daemon()
    hostnames: list[ReadValue] = []
    client.register_hostname_callback(hostnames.append)
    await emulator.notify(HOSTNAME_UUID, b"http://\xff\xfe/")
    await emulator.notify(HOSTNAME_UUID, b"http://hub/")
    await wait_for(lambda: hostnames)
    assert hostnames == [ReadValue("http://hub/", False)]
    assert "ignoring a malformed host name" in caplog.text
    assert client.is_connected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MissingServiceError("x"), NotBluenetDeviceError),
        (ProvisioningTimeoutError("x"), BluenetTimeoutError),
        (ProvisioningConnectionError("x"), BluenetConnectionError),
        (ProtocolDecodeError("x"), BluenetDecodeError),
        (DeviceClosedError("x"), DeviceClosedError),
        (TimeoutError(), BluenetTimeoutError),
        (BleakError("x"), BluenetConnectionError),
        (OSError("x"), BluenetConnectionError),
    ],
)
def test_errors_become_bluenet_errors(error: Exception, expected: type[Exception]) -> None:
    translated = as_bluenet_error(error)
    assert type(translated) is expected
    assert str(translated)
    assert as_bluenet_error(translated) is translated


# ---------------------------------------------------------------- secrets


async def test_password_never_logged(start_daemon: Start, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _emulator, client = await start_daemon()
    secret = "correct horse"
    await client.provision("home", "wrong horse!", timeout=30.0)
    await client.provision("home", secret, timeout=30.0)
    with pytest.raises(InvalidCredentialsError) as info:
        await client.provision("home", "tiny", timeout=30.0)
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.")
    )
    assert "provisioning 'home'" in ours  # the client does log at DEBUG
    for password in (secret, "wrong horse!", "tiny"):
        assert password not in ours
    assert "tiny" not in str(info.value)

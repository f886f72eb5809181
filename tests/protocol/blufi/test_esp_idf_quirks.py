"""AsyncBlufiClient against the ESP-IDF example's own behaviours (spec ``field.md`` §7).

Each test states the CORRECT client behaviour. The first four were ``xfail(strict=True)`` on
the client before issue 10's fixes (item 1: an empty STA_PASSWD frame for an open network made
the example refuse the open AP with 211; item 4: the example's cached "connected to the previous
network" status taken as success; item 9: a 32-byte SSID and a 64-hex-digit PSK, which the
example refuses, accepted): they pass now.
"""

from __future__ import annotations

import pytest

from bench.emulators.blufi import BlufiDeviceConfig, WifiAp
from custom_components.ble_provisioning.protocol.blufi import (
    BlufiDeviceError,
    ErrorCode,
    OpMode,
    ProvisionOutcome,
)
from custom_components.ble_provisioning.protocol.errors import (
    InvalidInputError,
    ProvisioningError,
)

from .conftest import BenchFactory, default_networks


def _config(**kwargs: object) -> BlufiDeviceConfig:
    config = BlufiDeviceConfig(networks=default_networks(), seed=21, dh_private_bits=256)
    for key, value in kwargs.items():
        setattr(config, key, value)
    return config


@pytest.mark.parametrize("profile", ["v5.5", "v6.0"])
async def test_open_network_is_joined(blufi_bench: BenchFactory, profile: str) -> None:
    async with blufi_bench(profile=profile, config=_config()) as bench:
        result = await bench.client().provision("Cafe Free WiFi", None, poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert result.ssid == "Cafe Free WiFi"
        assert "sta_passwd" not in bench.device.model.fields


async def test_moving_to_another_network_reports_the_new_one(blufi_bench: BenchFactory) -> None:
    # The old association's disconnect event reaches the example 3 s after CONN_TO_AP.
    async with blufi_bench(profile="v5.5", config=_config(leave_delay=3.0)) as bench:
        first = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert (first.outcome, first.ssid) == (ProvisionOutcome.CONNECTED, "HomeNet")
        result = await bench.client().provision(
            "Office-5G", "office-pass", poll_interval=0.05, timeout=10
        )
        assert result.ssid == "Office-5G"
        assert result.outcome is ProvisionOutcome.CONNECTED


async def test_wrong_password_for_the_current_network_is_not_success(
    blufi_bench: BenchFactory,
) -> None:
    async with blufi_bench(profile="v5.5", config=_config(leave_delay=3.0)) as bench:
        first = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert first.outcome is ProvisionOutcome.CONNECTED
        result = await bench.client().provision(
            "HomeNet", "not-the-password", poll_interval=0.05, timeout=10
        )
        assert result.outcome is ProvisionOutcome.WRONG_PASSWORD


@pytest.mark.parametrize(
    ("ssid", "password"), [("s" * 32, "password1"), ("HomeNet", "0123456789abcdef" * 4)]
)
async def test_example_limits_are_checked_before_connecting(
    blufi_bench: BenchFactory, ssid: str, password: str
) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        with pytest.raises(InvalidInputError):
            await bench.client().provision(ssid, password, poll_interval=0.05, timeout=3)
        assert bench.device.model.writes == []


async def test_a_pinned_bssid_sticks_until_reboot(blufi_bench: BenchFactory) -> None:
    """Not a client bug (the protocol cannot unpin): the outcome is an honest network-not-found."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        home = await bench.client().provision(
            "HomeNet", "password1", bssid="a4:cf:12:34:56:78", poll_interval=0.05
        )
        assert home.outcome is ProvisionOutcome.CONNECTED
        office = await bench.client().provision(
            "Office-5G", "office-pass", poll_interval=0.05, timeout=5
        )
        assert office.outcome is ProvisionOutcome.NETWORK_NOT_FOUND
        assert office.end_reason == 201
        await bench.device.reboot()
        again = await bench.client().provision(
            "Office-5G", "office-pass", poll_interval=0.05, timeout=5
        )
        assert again.outcome is ProvisionOutcome.CONNECTED


async def test_scan_in_softap_mode_is_a_typed_error(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench, bench.client() as client:
        await client.set_opmode(OpMode.SOFTAP)
        with pytest.raises(BlufiDeviceError) as info:
            await client.scan_wifi(timeout=2)
        assert info.value.code == ErrorCode.WIFI_SCAN_FAIL


async def test_a_frame_cut_by_a_link_without_mtu_exchange_is_a_typed_error(
    blufi_bench: BenchFactory,
) -> None:
    """A 517 link sets the device's fragment size; on the next, 23-byte link it still sends
    132-byte frames, which the stack cuts at 20 bytes: the client must fail typed, at once."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        async with bench.client() as client:
            assert client.mtu == 517
        bench.radio.mtu = 23
        client = bench.client(timeout=3)
        async with client:
            assert client.mtu == 23
            with pytest.raises(ProvisioningError):
                await client.negotiate_security()
        assert len(bench.device.model.notifications[-1]) == 132


async def test_status_polls_see_the_failure_the_example_does_not_push(
    blufi_bench: BenchFactory,
) -> None:
    networks = [WifiAp("HomeNet", -45, "password1", connect_delay=0.01)]
    async with blufi_bench(profile="v6.0", config=_config(networks=networks)) as bench:
        result = await bench.client().provision(
            "HomeNet", "wrong-password", poll_interval=0.05, timeout=5
        )
        assert result.outcome is ProvisionOutcome.WRONG_PASSWORD
        assert result.end_reason == 15
        assert bench.device.model.unsolicited_reports == 0

"""Issue 10 (BluFi items 3, 5) and issue 13 item 2 over the bench: weak device keys, bounded
device-fed data, the fast path. Each test names what main did wrong."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bench.bleak_backend import make_ble_device
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator
from bench.emulators.blufi.security import KeyChoice, NegResult, V1Security
from bench.link.profiles import LinkProfile
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import (
    AsyncBlufiClient,
    BlufiSecurity,
    BlufiSecurityError,
    BlufiVersion,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameControl,
    ProvisionOutcome,
)
from custom_components.ble_provisioning.protocol.blufi.client import CUSTOM_DATA_QUEUE
from custom_components.ble_provisioning.protocol.blufi.const import V1_LEGACY_DH_P
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.link import BlufiLink, LogThrottle
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    session_for,
)
from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.models import Protocol, ProvisionRequest

from .conftest import BenchFactory, default_networks, find_blufi

PROFILES = ["v5.5", "v6.0"]


def _config(**kwargs: object) -> BlufiDeviceConfig:
    config = BlufiDeviceConfig(networks=default_networks(), seed=31, dh_private_bits=256)
    for key, value in kwargs.items():
        setattr(config, key, value)
    return config


def _written(bench_model: object, frame_type: int, subtype: int) -> list[bytes]:
    writes: list[bytes] = bench_model.writes  # type: ignore[attr-defined]
    return [w for w in writes if w[0] == (subtype << 2 | frame_type)]


# ---------------------------------------------------------------- item 3: weak DH keys


@pytest.mark.parametrize("profile", PROFILES)
async def test_device_private_key_one_is_refused_before_any_credential(
    blufi_bench: BenchFactory, profile: str
) -> None:
    """A device whose DH private key is 1 sends g as its public key: the secret is then the
    client's own public value, which a sniffer read from the NEG frame. Main accepted it and
    sent the password under that key."""
    async with blufi_bench(profile=profile, config=_config(dh_private_key=1)) as bench:
        client = bench.client(timeout=2.0)
        with pytest.raises(BlufiSecurityError, match="g or g"):
            await client.provision("HomeNet", "password1", poll_interval=0.05, timeout=3)
        assert not client.is_connected
        model = bench.device.model
        assert "sta_ssid" not in model.fields
        assert "sta_passwd" not in model.fields


async def test_v1_offers_the_safe_group(blufi_bench: BenchFactory) -> None:
    """Main offered the legacy Espressif prime, whose p - 1 has a 32-bit factor."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        result = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        neg = _written(bench.device.model, 1, DataSubtype.NEG)
        blob = b"".join(w[4 + (2 if w[1] & FrameControl.FRAG else 0) : 4 + w[3]] for w in neg[1:])
        p = int.from_bytes(blob[3 : 3 + 128], "big")
        assert blob[1:3] == (128).to_bytes(2, "big")
        assert hex(p).startswith("0xffffffffffffffffc90fdaa22168c234")  # RFC 2409 group 2


# ---------------------------------------------------------------- fast path (issue 13)


@pytest.mark.parametrize(("profile", "version"), [("v5.5", "1.3"), ("v6.0", "1.4")])
async def test_known_version_fast_path(
    blufi_bench: BenchFactory, profile: str, version: str
) -> None:
    """No GET_VERSION, no ACK request, the key pair made while connecting (main: all three
    cost exchanges or CPU on the critical path)."""
    made: list[DhGroup] = []

    def factory(group: DhGroup) -> BlufiSession:
        made.append(group)
        return session_for(group)

    async with blufi_bench(profile=profile, config=_config()) as bench:
        client = bench.client(version=version)
        client.session_factory = factory
        await client.connect()
        assert client._negotiator._prepared  # started while connecting
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert len(made) == 1  # the prepared key pair was the one used
        model = bench.device.model
        assert not _written(model, 0, ControlSubtype.GET_VERSION)
        assert not [w for w in model.writes if w[1] & FrameControl.REQ_ACK]
        # NEG LEN, NEG DATA (V1: 2 frames, V2: 4), SET_SEC_MODE, SET_OPMODE, SSID, PASSWD,
        # CONN_TO_AP (and status polls if the join is slow to show)
        writes = [w for w in model.writes if w[0] != ControlSubtype.GET_WIFI_STATUS << 2]
        assert len(writes) == (8 if profile == "v5.5" else 10)


async def test_stale_known_version_is_asked_again(blufi_bench: BenchFactory) -> None:
    """The entry says 1.3 (V1), the firmware is now 1.4 (V2): DH errors, then GET_VERSION."""
    async with blufi_bench(profile="v6.0", config=_config()) as bench:
        client = bench.client(version="1.3")
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert client.version == BlufiVersion(1, 4)
        assert client.security is BlufiSecurity.NONE  # disconnected after provisioning
        assert _written(bench.device.model, 0, ControlSubtype.GET_VERSION)


# ---------------------------------------------------------------- item 5: device-fed data


async def test_send_and_wait_never_returns_an_earlier_message(blufi_bench: BenchFactory) -> None:
    """Main returned whatever custom data was queued: the echo of an earlier message."""
    config = _config(custom_reply=lambda data: b"pong" if data == b"ping" else data)
    async with blufi_bench(profile="v5.5", config=config) as bench:
        arrived = asyncio.Event()
        device = create_device(
            Protocol.BLUFI,
            bench.ble_device,
            backend=bench.radio.client_backend,
            idle_timeout=5.0,
        )
        device.set_custom_data_callback(lambda _data: arrived.set())
        try:
            await device.send_custom_data(b"stale")  # echoed, never read
            async with asyncio.timeout(5):
                await arrived.wait()
            assert await device.send_and_wait_custom_data(b"ping", 5.0) == b"pong"
        finally:
            await device.close()


async def test_custom_data_queue_is_capped(blufi_bench: BenchFactory) -> None:
    """Main kept every unread message (a device could fill the memory)."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        count = CUSTOM_DATA_QUEUE + 8
        received: list[bytes] = []
        done = asyncio.Event()
        client = bench.client()

        def on_custom(data: bytes) -> None:
            received.append(data)
            if len(received) == count:
                done.set()

        client.register_custom_data_callback(on_custom)
        async with client:
            for index in range(count):
                await client.send_custom_data(b"msg %d" % index)  # each echoed
            async with asyncio.timeout(10):
                await done.wait()
            kept = [await client.wait_custom_data(1.0) for _ in range(CUSTOM_DATA_QUEUE)]
            assert kept == [b"msg %d" % i for i in range(8, count)]  # the oldest were dropped


def test_malformed_notification_log_lines_are_rate_limited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Main logged every malformed notification (a device can send them endlessly)."""
    caplog.set_level(logging.DEBUG, logger="custom_components.ble_provisioning.protocol.blufi")
    link = BlufiLink(
        make_ble_device("24:0A:C4:00:00:01", "x"),
        service_uuid="0000ffff-0000-1000-8000-00805f9b34fb",
        write_uuid="0000ff01-0000-1000-8000-00805f9b34fb",
        notify_uuid="0000ff02-0000-1000-8000-00805f9b34fb",
    )
    for index in range(0, 1000, 2):
        link._on_notify(bytes((0x01, 0, index & 0xFF, 9)))  # claims 9 data bytes, has none
        link._on_notify(bytes((0x45, 0, (index + 1) & 0xFF, 0)))  # a WIFI_LIST nobody asked
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if "malformed" in line]) == 1
    assert len([line for line in lines if "unsolicited" in line]) == 1


def test_log_throttle_counts_what_it_held_back() -> None:
    throttle = LogThrottle(interval=0.0)
    assert throttle.allow() == 0
    throttle = LogThrottle(interval=3600.0)
    assert throttle.allow() == 0
    assert throttle.allow() is None
    assert throttle.allow() is None
    assert throttle.suppressed == 2


async def test_open_network_request_sends_no_password_frame_via_the_device(
    blufi_bench: BenchFactory,
) -> None:
    """The library device path (HA, engine): empty password → SSID only (issue 10 item 1)."""
    async with blufi_bench(profile="v6.0", config=_config()) as bench:
        device = create_device(Protocol.BLUFI, bench.ble_device, backend=bench.radio.client_backend)
        try:
            report = await device.provision(ProvisionRequest("Cafe Free WiFi", ""), 10.0)
        finally:
            await device.close()
        assert report.outcome is ProvisionOutcome.CONNECTED
        assert "sta_passwd" not in bench.device.model.fields


# ---------------------------------------------------------------- on the link profiles


@pytest.mark.link_profiles("ideal", "bluez-local", interval_ms=30)
@pytest.mark.parametrize("profile", PROFILES)
async def test_open_network_and_fast_path_on_the_link_profiles(
    radio: Radio, link_profile: LinkProfile, profile: str
) -> None:
    """Issue 10 item 1 and issue 13 item 2 where the link is slow (30 ms per exchange) and,
    with bluez-local, bleak reports ``mtu_size`` 23: an open network joined with SSID only,
    no GET_VERSION for a known version, no ACK request, frames sized from the link."""
    emulator = Esp32BlufiEmulator(_config(), profile=profile)
    await radio.add_peripheral(emulator)
    try:
        found = await find_blufi(radio, timeout=5.0)
        version = "1.3" if profile == "v5.5" else "1.4"
        client = AsyncBlufiClient(found, backend=radio.client_backend, version=version)
        result = await client.provision("Cafe Free WiFi", None)
        assert result.outcome is ProvisionOutcome.CONNECTED
        model = emulator.model
        assert "sta_passwd" not in model.fields
        assert not _written(model, 0, ControlSubtype.GET_VERSION)
        assert not [w for w in model.writes if w[1] & FrameControl.REQ_ACK]
        assert max(len(w) for w in model.writes) > 20  # not cut to the 23-byte default MTU
    finally:
        await emulator.close()


class _LegacyGroupOnly(V1Security):
    """Firmware whose own security handler knows only the Espressif prime."""

    async def _param_data(self, blob: bytes) -> NegResult:
        size = int.from_bytes(blob[:2], "big")
        if int.from_bytes(blob[2 : 2 + size], "big") != V1_LEGACY_DH_P:
            return NegResult(error=ErrorCode.READ_PARAM_ERROR)
        return await super()._param_data(blob)


async def test_v1_falls_back_to_the_legacy_group_once(blufi_bench: BenchFactory) -> None:
    """A device that refuses RFC 2409 group 2 with a DH error gets the legacy group, on the
    same link; one that refuses both fails typed, no credential sent."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        model = bench.device.model
        model._new_security = lambda: _LegacyGroupOnly(  # type: ignore[method-assign]
            model.rng, KeyChoice(private_bits=256)
        )
        client = bench.client()
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert model.errors_sent == [ErrorCode.READ_PARAM_ERROR]
        assert model.negotiations == 1


async def test_v1_device_refusing_both_groups(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        model = bench.device.model

        class RefuseAll(V1Security):
            async def _param_data(self, blob: bytes) -> NegResult:
                return NegResult(error=ErrorCode.DH_PARAM_ERROR)

        model._new_security = lambda: RefuseAll(  # type: ignore[method-assign]
            model.rng, KeyChoice(private_bits=256)
        )
        with pytest.raises(BlufiSecurityError, match="credentials not sent"):
            await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert model.errors_sent == [ErrorCode.DH_PARAM_ERROR, ErrorCode.DH_PARAM_ERROR]
        assert "sta_passwd" not in model.fields

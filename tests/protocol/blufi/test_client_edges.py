"""The client's and the link's less travelled paths, over the bench: refusals, plaintext
fallback, notifications off and on, listeners that fail, waits without a link."""

from __future__ import annotations

import asyncio
from typing import Any

from bleak import BleakScanner
import pytest

from bench.bleak_backend import make_ble_device
from bench.emulators.bluenet import BluenetDaemonEmulator
from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import (
    AsyncBlufiClient,
    BlufiDeviceSecurityError,
    BlufiFrameError,
    BlufiSecurity,
    BlufiSecurityError,
    BlufiVersion,
    NotBlufiDeviceError,
    OpMode,
    ProvisionOutcome,
    SoftApConfig,
    WifiStatus,
)
from custom_components.ble_provisioning.protocol.blufi.codec import Message
from custom_components.ble_provisioning.protocol.blufi.const import DataSubtype, FrameType
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.link import BlufiLink
from custom_components.ble_provisioning.protocol.blufi.security import BlufiSession, V2Session
from custom_components.ble_provisioning.protocol.errors import (
    InvalidInputError,
    ProvisioningConnectionError,
)
from custom_components.ble_provisioning.protocol.gatt import GattLink

from .conftest import BenchFactory, default_networks


def _config(**kwargs: object) -> BlufiDeviceConfig:
    config = BlufiDeviceConfig(networks=default_networks(), seed=41, dh_private_bits=256)
    for key, value in kwargs.items():
        setattr(config, key, value)
    return config


async def test_properties_and_invalid_provision_arguments(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        assert client.frame_limit is None
        client.frame_limit = 64
        assert client.frame_limit == 64
        with pytest.raises(InvalidInputError, match="at least 8"):
            client.frame_limit = 4
        assert client.session_factory is not None
        for kwargs in (
            {"ssid": None},
            {"ssid": None, "mode": OpMode.SOFTAP},
            {"ssid": "HomeNet", "timeout": 0},
            {"ssid": "HomeNet", "mode": 9},
        ):
            with pytest.raises(InvalidInputError):
                await client.provision(**kwargs)
        assert bench.device.model.writes == []
        async with client:
            await client.connect()  # already connected: nothing happens
            await client.set_opmode(OpMode.STA)
            assert client.writes == 1
            assert max(len(w) for w in bench.device.model.writes) <= 64


async def test_not_a_blufi_device_is_typed_and_releases_everything(radio: Radio) -> None:
    bluenet = BluenetDaemonEmulator()
    await radio.add_peripheral(bluenet)
    try:
        found = await BleakScanner.find_device_by_address(
            bluenet.address, timeout=3.0, backend=radio.scanner_backend
        )
        assert found is not None
        client = AsyncBlufiClient(found, backend=radio.client_backend, version="1.4")
        with pytest.raises(NotBlufiDeviceError):
            await client.connect()
        assert not client.is_connected
        assert not client._negotiator._prepared  # the key pair made ahead was dropped
    finally:
        await bluenet.close()


async def test_subscribe_failure_closes_the_link(
    blufi_bench: BenchFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: GattLink, uuid: str, callback: Any) -> None:
        raise ProvisioningConnectionError("CCCD write refused")

    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        monkeypatch.setattr(GattLink, "start_notify", refuse)
        client = bench.client()
        with pytest.raises(ProvisioningConnectionError, match="CCCD"):
            await client.connect()
        assert not client.is_connected


async def test_plaintext_fallback_when_allowed(blufi_bench: BenchFactory) -> None:
    """``require_security=False``: a failed negotiation sends the credentials in clear."""

    def broken(group: DhGroup) -> BlufiSession:
        raise RuntimeError("no entropy")

    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        client.session_factory = broken
        with pytest.raises(BlufiSecurityError, match="credentials not sent"):
            await client.provision("HomeNet", "password1", poll_interval=0.05)
        result = await client.provision(
            "HomeNet", "password1", require_security=False, poll_interval=0.05
        )
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert bench.device.model.fields["sta_passwd"] == [b"password1"]


async def test_provision_on_a_secured_link_does_not_negotiate_again(
    blufi_bench: BenchFactory,
) -> None:
    async with blufi_bench(profile="v6.0", config=_config()) as bench, bench.client() as client:
        assert await client.negotiate_security() is BlufiSecurity.V2
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert client.is_connected  # the caller's link stays up
        assert bench.device.model.negotiations == 1


async def test_known_version_that_is_right_does_not_hide_a_device_refusal(
    blufi_bench: BenchFactory,
) -> None:
    """A DH error when the version (given) still says V2: re-asked, then raised."""
    async with blufi_bench(profile="v6.0", config=_config()) as bench:
        client = bench.client(version="1.4")
        client.session_factory = lambda group: _ShortKeySession(group=group)
        with pytest.raises(BlufiSecurityError) as caught:
            await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert isinstance(caught.value.__cause__, BlufiDeviceSecurityError)
        assert client.version == BlufiVersion(1, 4)


class _ShortKeySession(V2Session):
    """A V2 session whose public key the device refuses (128 bytes instead of 384)."""

    def param_blob(self) -> bytes:
        blob = super().param_blob()
        return blob[: -(384 + 2)] + (128).to_bytes(2, "big") + self.public_key[-128:]


async def test_notifications_off_and_on_resynchronise(blufi_bench: BenchFactory) -> None:
    """Frames the device sent while unsubscribed are skipped, not a sequence error."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench, bench.client() as client:
        await client.get_version()
        await client.set_notify(enabled=False)
        await client.set_notify(enabled=False)  # already off
        await client.set_opmode(OpMode.STA, ack=False)
        await client.connect_ap()  # the device pushes its report: nobody listens
        await client.set_notify(enabled=True)
        assert await client.get_version() == BlufiVersion(1, 3)


async def test_a_malformed_report_fails_the_next_request(blufi_bench: BenchFactory) -> None:
    """Status listeners parse every report; a bad one becomes the next request's error."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        seen: list[WifiStatus] = []
        client.register_status_callback(seen.append)
        async with client:
            await client.get_wifi_status()
            assert seen
            client._link._dispatch(Message(FrameType.DATA, DataSubtype.WIFI_REP, b"\x01\x00"))
            with pytest.raises(BlufiFrameError):
                await client.get_version()
        assert not client.is_connected


async def test_requests_without_a_link(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        with pytest.raises(ProvisioningConnectionError):
            await client.wait_custom_data(0.1)
        with pytest.raises(ProvisioningConnectionError):
            await client.request_custom_data(b"x", 0.1)
        with pytest.raises(ProvisioningConnectionError):
            await client.set_softap_config(SoftApConfig(ssid="AP"))
        await client.disconnect_ble()  # not connected: nothing to ask, never raises
        with pytest.raises(InvalidInputError):
            await client.send_custom_data("text")  # type: ignore[arg-type]
        assert not client.is_connected


async def test_disconnect_ble_when_the_device_does_not_drop(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client(timeout=0.2)
        await client.connect()
        bench.device.model.config.faults.ignore_writes_from = 0  # DISCONNECT_BLE is ignored
        await client.disconnect_ble()  # waits (bounded), then closes the link itself
        assert not client.is_connected


# ---------------------------------------------------------------- the link alone


def _link() -> BlufiLink:
    return BlufiLink(
        make_ble_device("24:0A:C4:00:00:02", "x"),
        service_uuid="0000ffff-0000-1000-8000-00805f9b34fb",
        write_uuid="0000ff01-0000-1000-8000-00805f9b34fb",
        notify_uuid="0000ff02-0000-1000-8000-00805f9b34fb",
    )


async def test_link_inboxes_without_a_connection() -> None:
    link = _link()
    inbox = link.open_inbox(lambda _m: True)
    with pytest.raises(ProvisioningConnectionError, match="not connected"):
        await link.receive(inbox, 0.1, "anything")
    link._on_notify(b"\x01")  # shorter than a header: malformed, nobody waits, not kept
    link.raise_pending()  # not connected: nothing was kept for a next request
    # a receiver woken for a message that a session reset then dropped
    getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    inbox.getter = getter
    getter.set_exception(ProvisioningConnectionError("gone"))
    link.close_inbox(inbox)  # its error is retrieved
    link.close_inbox(inbox)  # twice: nothing left to do
    waiting = link.open_inbox(lambda _m: True)
    waiting.getter = asyncio.get_running_loop().create_future()
    link.close_inbox(waiting)
    assert waiting.getter is None


async def test_receive_after_a_reset_that_dropped_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The receiver is woken, then a disconnect clears the inbox before it runs."""
    link = _link()
    inbox = link.open_inbox(lambda _m: True)

    async def woken_then_reset(future: asyncio.Future[None], timeout: float, what: str) -> None:
        inbox.offer(Message(FrameType.DATA, DataSubtype.REPLY_VERSION, b"\x01\x03"))
        link.reset_session()
        await future

    monkeypatch.setattr(link._gatt, "wait", woken_then_reset)
    monkeypatch.setattr(GattLink, "is_connected", property(lambda _self: True))
    with pytest.raises(ProvisioningConnectionError, match="disconnected"):
        await link.receive(inbox, 1.0, "version")


async def test_device_drop_is_seen_by_wait_lost(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        await client.connect()
        waiter = asyncio.create_task(client._link.wait_lost(10.0))
        await bench.device.disconnect()
        assert await waiter is True
        await client.disconnect()


async def test_plaintext_fallback_after_a_lost_key_fragment(blufi_bench: BenchFactory) -> None:
    """The device's key never arrives whole (its last fragment is lost): with the opt-in the
    credentials go in clear, and the lost frame's sequence gap does not fail the join."""
    # notifications: 0 version, 1-2 the V2 key in two fragments
    config = _config(faults=BlufiFaults(drop_notifications={2}))
    async with blufi_bench(profile="v6.0", config=config) as bench:
        client = bench.client(timeout=0.5)
        result = await client.provision(
            "HomeNet", "password1", require_security=False, poll_interval=0.05
        )
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert bench.device.model.fields["sta_passwd"] == [b"password1"]


async def test_a_frame_pushed_before_the_subscription_is_no_sequence_error(
    blufi_bench: BenchFactory,
) -> None:
    """The device pushed its Wi-Fi report right after the connection, before the client
    subscribed (its Wi-Fi joined just then): the first frame heard carries sequence 1."""
    async with blufi_bench(profile="v5.5", config=_config()) as bench:
        client = bench.client()
        link = client._link
        real_set_notify = link.set_notify

        async def late_subscription(*, enabled: bool) -> None:
            if enabled:
                # What the device sent meanwhile: one frame nobody heard (sequence 0).
                await bench.device.model.send_custom_data(b"pushed before the subscription")
            await real_set_notify(enabled=enabled)

        link.set_notify = late_subscription  # type: ignore[method-assign]
        async with client:
            assert await client.get_version() == BlufiVersion(1, 3)

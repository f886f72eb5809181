"""The device base class's link handling, on a scripted device (no radio): which errors keep the
link, connect timeouts, a close racing a waiting operation or a pending idle release."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.ble_provisioning.protocol.errors import (
    ConnectionLostError,
    ConnectTimeoutError,
    DeviceClosedError,
    InvalidInputError,
    OperationNotSupportedError,
    ProvisioningTimeoutError,
)

from .scripted_device import ScriptedDevice, nothing


def _idle_release_pending(device: ScriptedDevice) -> bool:
    return device._idle_handle is not None


async def test_invalid_input_keeps_the_link_a_lost_one_does_not() -> None:
    device = ScriptedDevice()

    async def refuse() -> None:
        raise InvalidInputError("ssid too long", field="ssid")

    device.step = refuse
    with pytest.raises(InvalidInputError):
        await device.run()
    assert (device.is_connected, device.closes) == (True, 0)  # nothing was sent: link kept

    async def lose() -> None:
        raise ConnectionLostError("gone")

    device.step = lose
    with pytest.raises(ConnectionLostError):
        await device.run()
    assert (device.is_connected, device.opens, device.closes) == (False, 1, 1)
    await device.close()


async def test_no_idle_release_is_scheduled_for_a_link_that_went_down() -> None:
    """The operation ended with the link already down (the device rebooted): nothing pending."""
    device = ScriptedDevice(idle_timeout=60.0)

    async def reboot() -> None:
        device.link_up = False

    device.step = reboot
    await device.run()
    assert not _idle_release_pending(device)
    device.step = nothing
    await device.run()  # the next operation connects again
    assert device.opens == 2
    assert _idle_release_pending(device)  # this time the link stayed up: released later
    await device.close()
    assert not device.is_connected


@pytest.mark.parametrize(
    ("raised", "same"),
    [(ConnectTimeoutError("no answer"), True), (ProvisioningTimeoutError("GATT"), False)],
    ids=["connect timeout", "other timeout"],
)
async def test_a_timeout_while_connecting_is_a_connect_timeout(
    raised: ProvisioningTimeoutError, same: bool
) -> None:
    device = ScriptedDevice()
    device.open_error = raised
    with pytest.raises(ConnectTimeoutError) as caught:
        await device.run()
    assert (caught.value is raised) is same
    if not same:
        assert caught.value.__cause__ is raised
    assert not device.is_connected
    await device.close()


async def _running_until(device: ScriptedDevice, release: asyncio.Event) -> asyncio.Task[None]:
    """Start an operation that holds the device until ``release`` is set."""
    started = asyncio.Event()

    async def hold() -> None:
        started.set()
        await release.wait()

    device.step = hold
    task = asyncio.create_task(device.run())
    await started.wait()
    return task


async def test_an_operation_waiting_when_the_device_closes_does_not_reconnect() -> None:
    device = ScriptedDevice()
    release = asyncio.Event()
    first = await _running_until(device, release)
    device.step = nothing
    second = asyncio.create_task(device.run())  # waits for the device
    await asyncio.sleep(0)
    closing = asyncio.create_task(device.close())
    await asyncio.sleep(0)
    assert device.closed
    release.set()
    await first
    with pytest.raises(DeviceClosedError):
        await second
    await closing
    assert (device.opens, device.is_connected) == (1, False)


async def test_close_waits_for_a_pending_idle_release() -> None:
    device = ScriptedDevice()
    release = asyncio.Event()
    running = await _running_until(device, release)
    closing = asyncio.create_task(device.close())
    await asyncio.sleep(0)  # close() now waits for the running operation
    device._idle_expired()  # the idle timer fires: its release queues behind close()
    idle = device._idle_task
    assert idle is not None
    release.set()
    await running
    await closing
    assert idle.done()  # close() returned only once the idle release was over
    assert not device.is_connected


async def test_what_a_protocol_does_not_support() -> None:
    device = ScriptedDevice()
    with pytest.raises(OperationNotSupportedError) as caught:
        await device.send_and_wait_custom_data(b"\x01", 1.0)
    assert caught.value.error_key == "not_supported_operation"
    with pytest.raises(OperationNotSupportedError):
        await device.send_custom_data(b"\x01")
    with pytest.raises(OperationNotSupportedError):
        await device.disconnect_wifi()
    assert device.opens == 0  # refused without connecting
    await device.close()

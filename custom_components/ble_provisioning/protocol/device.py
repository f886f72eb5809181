"""One provisioning-capable device, whatever its protocol: the library owns the link.

:class:`ProvisioningDevice` is what Home Assistant, the batch engine and the console command use.
It connects on demand, serialises operations (one at a time per device), keeps the link for
``idle_timeout`` seconds after the last operation so that consecutive steps (identify, scan,
provision) share one connection, then releases it — at once when ``idle_timeout`` is 0, which
is what background work wants: a proxy has ~3 connection slots. A connection slot is awaited
through the optional :class:`~.slots.ConnectionSlots` instead of failing when an adapter is
full. After :meth:`ProvisioningDevice.close` every operation raises
:class:`~.errors.DeviceClosedError` and nothing reconnects.

The protocol adapters (:mod:`.device_blufi`, :mod:`.device_bluenet`) translate each client's
models into :mod:`.models`; every failure is a :class:`~.errors.ProvisioningError` with an
``error_key``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import logging
from typing import ClassVar

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from .errors import (
    ConnectionLostError,
    ConnectTimeoutError,
    DeviceClosedError,
    DeviceNotFoundError,
    InvalidInputError,
    OperationNotSupportedError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from .limits import LIMITS, CredentialLimits
from .models import (
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    Protocol,
    ProvisionReport,
    ProvisionRequest,
    WifiNetwork,
)
from .slots import ConnectionSlots

_LOGGER = logging.getLogger(__name__)

BLEDeviceSource = BLEDevice | Callable[[], BLEDevice | None]
"""A ``BLEDevice``, or a function returning the freshest one (None: not in range)."""

CustomDataCallback = Callable[[bytes], None]

DEFAULT_TIMEOUT = 15.0
"""Seconds allowed for each step of an operation (connect attempt, request, answer)."""


class ProvisioningDevice(ABC):
    """A BluFi or Bluenet device; create one with :func:`create_device`."""

    protocol: ClassVar[Protocol]
    capabilities: ClassVar[Capabilities]
    default_name: ClassVar[str]
    manufacturer: ClassVar[str]
    model: ClassVar[str]

    def __init__(
        self,
        ble_device: BLEDeviceSource,
        *,
        address: str | None = None,
        backend: type[BaseBleakClient] | None = None,
        slots: ConnectionSlots | None = None,
        idle_timeout: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        version: str | None = None,
    ) -> None:
        """Describe the device; nothing happens on the radio until an operation runs.

        ``version`` is the protocol version when already known (from an earlier
        identification): a BluFi device is then not asked for it again.
        """
        if isinstance(ble_device, BLEDevice):
            fixed = ble_device
            self._resolve: Callable[[], BLEDevice | None] = lambda: fixed
            address = address or ble_device.address
        else:
            self._resolve = ble_device
        if not address:
            msg = "address is required when ble_device is a callable"
            raise ValueError(msg)
        self.address = address
        self._backend = backend
        self._slots = slots
        self.idle_timeout = idle_timeout
        self._timeout = timeout
        self.version = version
        self._lock = asyncio.Lock()
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[None] | None = None
        self._closed = False
        self._custom_data_callback: CustomDataCallback | None = None

    def __repr__(self) -> str:
        """Name the protocol and the address."""
        return f"{type(self).__name__}({self.address})"

    @property
    def limits(self) -> CredentialLimits:
        """What this device's protocol accepts as SSID and password."""
        return LIMITS[self.protocol]

    # -------------------------------------------------------------- link

    @property
    @abstractmethod
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""

    @abstractmethod
    async def _open(self, ble_device: BLEDevice) -> None:
        """Create the protocol client for ``ble_device`` and connect it."""

    @abstractmethod
    async def _close_link(self) -> None:
        """Release the BLE connection (never raises)."""

    def _ble_device(self) -> BLEDevice:
        ble_device = self._resolve()
        if ble_device is None:
            raise DeviceNotFoundError(f"{self.address} is not in range of a connectable adapter")
        return ble_device

    def _ble_device_callback(self, fallback: BLEDevice) -> Callable[[], BLEDevice]:
        """For bleak-retry-connector: a retry may switch to a better adapter or proxy."""
        return lambda: self._resolve() or fallback

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _cancel_idle(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    def _idle_expired(self) -> None:
        self._idle_handle = None
        self._idle_task = asyncio.get_running_loop().create_task(self.disconnect())

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[None]:
        """One operation: exclusive, connected, errors typed; then the idle release."""
        if self._closed:
            raise DeviceClosedError(f"{self.address}: closed")
        async with self._lock:
            if self._closed:
                raise DeviceClosedError(f"{self.address}: closed")
            self._cancel_idle()
            try:
                if not self.is_connected:
                    await self._connect()
                try:
                    yield
                except InvalidInputError:
                    raise
                except ConnectionLostError:
                    await self._close_link()
                    raise
                except ProvisioningConnectionError as err:
                    # The link was up: a connection failure now means it was lost on the way.
                    await self._close_link()
                    raise ConnectionLostError(str(err)) from err
                except (ProvisioningError, asyncio.CancelledError):
                    await self._close_link()
                    raise
            finally:
                if self.idle_timeout <= 0 or self._closed:
                    await self._close_link()
                elif self.is_connected:
                    self._idle_handle = asyncio.get_running_loop().call_later(
                        self.idle_timeout, self._idle_expired
                    )

    async def _connect(self) -> None:
        ble_device = self._ble_device()
        try:
            await self._open(ble_device)
        except ProvisioningTimeoutError as err:
            await self._close_link()
            if isinstance(err, ConnectTimeoutError):
                raise
            raise ConnectTimeoutError(str(err)) from err
        except BaseException:
            await self._close_link()
            raise

    async def disconnect(self) -> None:
        """Release the connection now (after the running operation, if any); never raises."""
        self._cancel_idle()
        async with self._lock:
            await self._close_link()

    async def close(self) -> None:
        """Refuse further operations, wait for the running one, release the link."""
        self._closed = True
        self._cancel_idle()
        await self.disconnect()
        task, self._idle_task = self._idle_task, None
        if task is not None and not task.done():
            await task

    # -------------------------------------------------------------- operations

    @abstractmethod
    async def identify(self) -> DeviceIdentity:
        """Read what identifies the device (protocol version, security, host name)."""

    @abstractmethod
    async def get_status(self) -> DeviceStatus:
        """Read the Wi-Fi status."""

    @abstractmethod
    async def scan(self, timeout: float) -> list[WifiNetwork]:
        """Scan with the device's own radio; strongest first where the signal is known."""

    @abstractmethod
    async def provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Send the credentials and wait for the device's real outcome."""

    async def send_custom_data(self, data: bytes) -> None:
        """Send opaque data to the device."""
        raise OperationNotSupportedError("custom data")

    async def send_and_wait_custom_data(self, data: bytes, timeout: float) -> bytes:
        """Send opaque data and return the device's reply (never an earlier message)."""
        raise OperationNotSupportedError("custom data")

    async def disconnect_wifi(self) -> None:
        """Ask the device to leave its Wi-Fi network."""
        raise OperationNotSupportedError("disconnect Wi-Fi")

    def set_custom_data_callback(self, callback: CustomDataCallback | None) -> None:
        """Call ``callback`` with custom data the device sends while connected."""
        self._custom_data_callback = callback

    def _on_custom_data(self, data: bytes) -> None:
        if self._custom_data_callback is not None:
            self._custom_data_callback(data)


def device_class(protocol: Protocol) -> type[ProvisioningDevice]:
    """Return the class for ``protocol`` (for its class-level facts: capabilities, names)."""
    # Imported here: the adapters import this module for their base class.
    from .device_bluenet import BluenetDevice  # noqa: PLC0415
    from .device_blufi import BlufiDevice  # noqa: PLC0415

    return BlufiDevice if protocol is Protocol.BLUFI else BluenetDevice


def create_device(
    protocol: Protocol,
    ble_device: BLEDeviceSource,
    *,
    address: str | None = None,
    backend: type[BaseBleakClient] | None = None,
    slots: ConnectionSlots | None = None,
    idle_timeout: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
    version: str | None = None,
) -> ProvisioningDevice:
    """Return the device object for ``protocol`` (see :class:`ProvisioningDevice`)."""
    return device_class(protocol)(
        ble_device,
        address=address,
        backend=backend,
        slots=slots,
        idle_timeout=idle_timeout,
        timeout=timeout,
        version=version,
    )

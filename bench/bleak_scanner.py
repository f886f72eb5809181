"""A bleak scanner backend over the bench radio's Bumble central (bleak 0.22.3 and >= 1.0).

``make_scanner_backend(radio)`` returns a class bound to one radio; use it through
``radio.scanner_backend`` (``BleakScanner(backend=radio.scanner_backend)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from .bleak_gatt import SCANNER_KEYED

if TYPE_CHECKING:
    from .radio import Radio, RadioAdvertisement


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend fed by the radio central's (always-on) scanning."""

    radio: ClassVar[Radio]

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        """Accept bleak's scanner arguments (``bluez``/``cb`` are ignored)."""
        super().__init__(detection_callback, service_uuids)
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Start delivering advertisements."""
        self.seen_devices = {}
        if self._unsubscribe is None:
            self._unsubscribe = self.radio.add_advertisement_listener(self._on_advertisement)

    async def stop(self) -> None:
        """Stop delivering advertisements."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def set_scanning_filter(self, **kwargs: Any) -> None:
        """Ignore filters: only ``service_uuids`` filtering is supported."""

    def _on_advertisement(self, adv: RadioAdvertisement) -> None:
        data = adv.data
        if not self.is_allowed_uuid(data.service_uuids):
            return
        advertisement_data = AdvertisementData(
            local_name=data.local_name,
            manufacturer_data=dict(data.manufacturer_data),
            service_data=dict(data.service_data),
            service_uuids=list(data.service_uuids),
            tx_power=data.tx_power,
            rssi=adv.rssi,
            platform_data=(adv.address, adv.raw),
        )
        create = cast("Callable[..., BLEDevice]", self.create_or_update_device)
        if SCANNER_KEYED:
            device = create(
                adv.address, adv.address, data.local_name, adv.details, advertisement_data
            )
        else:
            device = create(adv.address, data.local_name, adv.details, advertisement_data)
        self.call_detection_callbacks(device, advertisement_data)


def make_scanner_backend(radio: Radio) -> type[BumbleBleakScanner]:
    """Return a ``BumbleBleakScanner`` subclass bound to ``radio``."""
    return type("BumbleBleakScannerForRadio", (BumbleBleakScanner,), {"radio": radio})

"""The console command's scan: what it keeps, when it ends early, and a scanner that fails."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError
import pytest

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning.protocol import discovery
from custom_components.ble_provisioning.protocol.bluenet.const import SERVICE_UUID as BLUENET
from custom_components.ble_provisioning.protocol.blufi.const import SERVICE_UUID as BLUFI
from custom_components.ble_provisioning.protocol.discovery import FoundDevice, scan
from custom_components.ble_provisioning.protocol.errors import ProvisioningConnectionError
from custom_components.ble_provisioning.protocol.models import Protocol

OTHER = "0000180f-0000-1000-8000-00805f9b34fb"  # battery service


def _advert(name: str | None, uuids: list[str], rssi: int) -> AdvertisementData:
    return AdvertisementData(
        local_name=name,
        manufacturer_data={},
        service_data={},
        service_uuids=uuids,
        tx_power=None,
        rssi=rssi,
        platform_data=(),
    )


class UnfilteredScanner(BaseBleakScanner):
    """A platform scanner that ignores the service filter: hands over every advertisement."""

    adverts: ClassVar[list[tuple[str, AdvertisementData]]] = []
    service_uuids_seen: ClassVar[list[list[str] | None]] = []

    def __init__(
        self, detection_callback: Any, service_uuids: list[str] | None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self.service_uuids_seen.append(service_uuids)

    async def start(self) -> None:
        for address, adv in self.adverts:
            device = make_ble_device(address, adv.local_name, None)
            self.call_detection_callbacks(device, adv)

    async def stop(self) -> None:
        pass

    def set_scanning_filter(self, **kwargs: Any) -> None:
        pass


class BrokenScanner(UnfilteredScanner):
    """An adapter that is off: starting the scan fails."""

    async def start(self) -> None:
        raise BleakError("No Bluetooth adapters found.")


@pytest.fixture
def adverts() -> list[tuple[str, AdvertisementData]]:
    UnfilteredScanner.service_uuids_seen = []
    UnfilteredScanner.adverts = [
        ("24:0a:c4:00:00:01", _advert("BLUFI_DEVICE", [BLUFI], -70)),
        ("24:0A:C4:00:00:02", _advert("BLUFI_DEVICE", [BLUFI], -40)),
        ("B0:0B:1E:00:00:03", _advert(None, [BLUENET], -60)),
        ("B0:0B:1E:00:00:04", _advert("both", [BLUFI, BLUENET], -30)),  # Bluenet wins
        ("11:22:33:44:55:66", _advert("a battery", [OTHER], -20)),
        ("24:0A:C4:00:00:01", _advert("BLUFI_DEVICE", [BLUFI], -50)),  # again, stronger
    ]
    return UnfilteredScanner.adverts


async def test_only_the_asked_protocols_strongest_first(
    adverts: list[tuple[str, AdvertisementData]],
) -> None:
    found = await scan(0.05, protocols=[Protocol.BLUFI], backend=UnfilteredScanner)
    assert [(d.address, d.rssi, d.protocol) for d in found] == [
        ("24:0A:C4:00:00:02", -40, Protocol.BLUFI),
        ("24:0A:C4:00:00:01", -50, Protocol.BLUFI),  # the latest advertisement counts
    ]
    assert UnfilteredScanner.service_uuids_seen == [[BLUFI]]
    every = await scan(0.05, backend=UnfilteredScanner)
    assert [d.address for d in every] == [
        "B0:0B:1E:00:00:04",
        "24:0A:C4:00:00:02",
        "24:0A:C4:00:00:01",
        "B0:0B:1E:00:00:03",
    ]
    by_address = {d.address: d for d in every}
    assert by_address["B0:0B:1E:00:00:04"].protocol is Protocol.BLUENET
    assert by_address["B0:0B:1E:00:00:03"].name == "Bluenet device 00:03"


async def test_done_ends_the_scan_and_is_asked_once_per_new_device(
    adverts: list[tuple[str, AdvertisementData]],
) -> None:
    asked: list[set[str]] = []

    def done(found: dict[str, FoundDevice]) -> bool:
        asked.append(set(found))
        return "B0:0B:1E:00:00:03" in found

    # A timeout far beyond the test's: only `done` can end this scan in time.
    found = await scan(3600, backend=UnfilteredScanner, done=done)
    assert {d.address for d in found} >= {"B0:0B:1E:00:00:03"}
    assert len(asked) == len({frozenset(seen) for seen in asked})  # once per new device
    assert asked[-1] >= {"B0:0B:1E:00:00:03"}
    assert "11:22:33:44:55:66" not in set().union(*asked)  # never offered a foreign device


async def test_a_failing_scanner_is_a_connection_error() -> None:
    with pytest.raises(ProvisioningConnectionError, match="cannot scan") as caught:
        await scan(1.0, backend=BrokenScanner)
    assert isinstance(caught.value.__cause__, BleakError)


async def test_the_platform_scanner_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a backend, bleak picks the platform's: no ``backend`` argument is passed."""
    calls: list[dict[str, Any]] = []

    class RecordingScanner:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            calls.append(kwargs)

        async def __aenter__(self) -> Self:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(discovery, "BleakScanner", RecordingScanner)
    assert await scan(0.01) == []
    assert calls == [{}]

"""Figures of ``provision_many`` through Home Assistant (opt-in: ``BLE_BATCH_FIGURES=1``).

N BluFi devices (V1/V2 alternating, firmware-size DH keys) behind two virtual proxies with three
slots each, on the ``ideal`` link profile with 30 ms per ATT exchange. Prints the total time, the
ideal (ceil(N/6) x one device provisioned alone), failures, the most connections at once per proxy
and the slots afterwards. Only the functional facts are asserted (every device with the right
password joins, every slot is free afterwards): the times depend on the machine.

``BLE_BATCH_FIGURES=1 .venv-floor/bin/python -m pytest -s -p no:cacheprovider
tests/integration/test_batch_figures.py``
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, WifiAp
from bench.fleet import address_of, mixed
from bench.link.profiles import LinkProfile
from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.const import DOMAIN
from custom_components.ble_provisioning.slots import ha_slots

from .batch_bench import NEW_PASSWORD, NEW_SSID, OTHER_PASSWORD, watch_slots
from .conftest import Bench

pytestmark = pytest.mark.skipif(
    not os.environ.get("BLE_BATCH_FIGURES"), reason="a benchmark: set BLE_BATCH_FIGURES=1"
)
_PROFILES = {"blufi-v1": "v5.5", "blufi-v2": "v6.0"}


async def _call(hass: HomeAssistant, addresses: list[str]) -> tuple[Any, float]:
    start = time.monotonic()
    response = await hass.services.async_call(
        DOMAIN,
        "provision_many",
        {"address": addresses, "ssid": NEW_SSID, "password": NEW_PASSWORD},
        blocking=True,
        return_response=True,
    )
    return response, time.monotonic() - start


@pytest.mark.link_profiles("ideal", interval_ms=30)
@pytest.mark.parametrize(("count", "wrong"), [(20, 0), (20, 3), (50, 0)])
async def test_provision_many_figures(
    hass: HomeAssistant,
    bench: Bench,
    link_profile: LinkProfile,
    count: int,
    wrong: int,
) -> None:
    """Provision ``count`` devices (``wrong`` of them with a wrong password) through two proxies."""
    assert await async_setup_component(hass, DOMAIN, {})
    second = await VirtualProxy.async_start(
        hass, bench.radio, source="AA:BB:CC:DD:EE:02", name="Second proxy", slots=3
    )
    proxies = [bench.proxy, second]
    wrong_indices = set(range(1, count, max(1, count // max(1, wrong))))
    wrong_indices = set(sorted(wrong_indices)[:wrong])
    addresses: list[str] = []
    for index, kind in enumerate(mixed(count), start=1):
        address = address_of(kind, index)
        password = OTHER_PASSWORD if index - 1 in wrong_indices else NEW_PASSWORD
        config = BlufiDeviceConfig(
            name=f"BLUFI_DEVICE-{index:02d}", networks=[WifiAp(NEW_SSID, -50, password)], seed=index
        )
        await bench.blufi(config, address=address, profile=_PROFILES[kind])
        addresses.append(address)
    try:
        single, alone = await _call(hass, addresses[:1])
        assert single["failed"] == 0
        watches = [watch_slots(proxy) for proxy in proxies]  # type: ignore[arg-type]
        try:
            response, total = await _call(hass, addresses)
        finally:
            for watch in watches:
                watch.unsubscribe()
        await hass.async_block_till_done(wait_background_tasks=True)
        allocated = [list(proxy.allocated) for proxy in proxies]  # type: ignore[attr-defined]
    finally:
        await second.async_stop()
    ideal = math.ceil(count / 6) * alone
    failed = [item for item in response["results"] if not item["success"]]
    figures = {
        "devices": count,
        "wrong_password": wrong,
        "one_device_alone_s": round(alone, 2),
        "ideal_s": round(ideal, 2),
        "total_s": round(total, 2),
        "ratio": round(total / ideal, 2),
        "failed": len(failed),
        "failed_status": sorted({item["status"] for item in failed}),
        "most_connections_per_proxy": [watch.most for watch in watches],
        "allocated_after": allocated,
        "slot_waits": ha_slots(hass).waits,
        "attempts_max": max(item["attempts"] for item in response["results"]),
    }
    print("FIGURES", json.dumps(figures))  # noqa: T201 - the benchmark's output
    assert len(failed) == wrong
    assert {item["status"] for item in failed} <= {"wrong_password"}
    assert allocated == [[], []]

"""A known password must appear nowhere: logs, diagnostics, attributes, errors, storage."""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from bench.emulators.blufi import BlufiFaults
from custom_components.ble_provisioning.const import DOMAIN

from .conftest import BLUENET_ADDRESS, BLUFI_ADDRESS, PASSWORD, Bench, wait_for
from .helpers import confirm_discovery, device_for, submit_wifi


async def test_password_never_exposed(
    hass: HomeAssistant,
    bench: Bench,
    caplog: pytest.LogCaptureFixture,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
) -> None:
    """Provision both protocols with a known password, fail on purpose, then search."""
    caplog.set_level(logging.DEBUG)
    for radio_side in ("bumble", "bench"):  # not searched below; their DEBUG output is large
        caplog.set_level(logging.INFO, logger=radio_side)
    blufi = await bench.blufi()
    await bench.bluenet()
    errors: list[str] = []

    # Config flow: a failure first (the password is in the request), then success.
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    blufi.model.config.faults = BlufiFaults(disconnect_at_write=7)
    result = await submit_wifi(hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD})
    assert result["errors"] == {"base": "connection_lost"}
    blufi.model.config.faults = BlufiFaults()
    result = await submit_wifi(hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    errors.append(repr(result))
    blufi_entry = result["result"]

    result = await confirm_discovery(hass, BLUENET_ADDRESS)
    result = await submit_wifi(
        hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD, "allow_cleartext": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    bluenet_entry = result["result"]

    # Actions: success, wrong network, dropped link.
    blufi_device = device_for(hass, BLUFI_ADDRESS)
    assert blufi_device is not None
    await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {"device_id": blufi_device.id, "ssid": "HomeNet", "password": PASSWORD},
        blocking=True,
    )
    for faults, ssid in ((None, "Neighbour"), (BlufiFaults(disconnect_at_write=7), "HomeNet")):
        if faults is not None:
            await wait_for(lambda: not blufi.connections)
            blufi.model.config.faults = faults
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN,
                "provision_wifi",
                {"device_id": blufi_device.id, "ssid": ssid, "password": PASSWORD},
                blocking=True,
            )
        errors.extend((str(err.value), repr(err.value), repr(err.value.__cause__)))
        blufi.model.config.faults = BlufiFaults()
    await hass.async_block_till_done()

    # Flush delayed storage writes (config entries, registries, bluetooth history). The clock
    # jump fires every timer that falls due, the radio's too: let the radio settle first.
    await wait_for(lambda: not blufi.connections)
    await bench.radio.settle()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10))
    await hass.async_block_till_done()

    diagnostics = [
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
        for entry in (blufi_entry, bluenet_entry)
    ]
    attributes = [
        json.dumps(dict(state.attributes), default=str) + state.state
        for state in hass.states.async_all()
    ]
    # The bench's own radio (Bumble HCI packet dumps, emulator internals) sees the air, where
    # Bluenet's password is clear text by design; everything of Home Assistant and of the
    # integration (including its protocol clients) is searched.
    logs = "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if not record.name.startswith(("bumble", "bench"))
    )
    haystacks = {
        "logs": logs,
        "diagnostics": json.dumps(diagnostics),
        "attributes": "\n".join(attributes),
        "errors": "\n".join(errors),
        "storage": json.dumps(hass_storage, default=str),
        "entries": repr([blufi_entry.as_dict(), bluenet_entry.as_dict()]),
    }
    assert "provisioning" in caplog.text  # the DEBUG logs were captured
    assert hass_storage  # something was written
    for name, haystack in haystacks.items():
        assert PASSWORD not in haystack, name
        assert PASSWORD.encode().hex() not in haystack, name

"""Actions for many devices: ``provision_many`` and ``move_fleet``.

``provision_many`` provisions configured devices (device ids) and/or discovered ones
(addresses) onto one network, with optional per-device overrides, all at once within the free
connection slots; its response lists every device's result (in the order given). ``move_fleet``
moves configured devices to a new network with a canary: one device first, confirmed by a status
read, then the rest in waves; it stops after the first wave with a failure and says which
devices are where (moved, failed, untouched).

Called without a response, either action raises a translated error when a device failed, so an
automation does not go on silently.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from homeassistant.const import CONF_PASSWORD
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .batch import EntryHold, Member, batch_engine
from .const import CONF_ALLOW_CLEARTEXT, CONF_SSID, DOMAIN
from .protocol.engine import DeviceResult
from .protocol.fleet import FleetMove
from .protocol.models import ProvisionRequest
from .targets import (
    coordinator_for_device,
    discovered_device,
    entry_for_address,
    loaded_coordinator,
)

ATTR_DEVICE_ID = "device_id"
ATTR_ADDRESS = "address"
ATTR_OVERRIDES = "overrides"
ATTR_VERIFY = "verify"
ATTR_CANARY = "canary"
ATTR_WAVE_SIZE = "wave_size"
ATTR_VERIFY_WAVES = "verify_waves"

SERVICE_PROVISION_MANY = "provision_many"
SERVICE_MOVE_FLEET = "move_fleet"

MAX_WAVE_SIZE = 20

_NETWORK = {
    vol.Required(CONF_SSID): cv.string,
    vol.Optional(CONF_PASSWORD): cv.string,
    vol.Optional(CONF_ALLOW_CLEARTEXT, default=False): cv.boolean,
}
_OVERRIDE = vol.Schema({vol.Optional(CONF_SSID): cv.string, vol.Optional(CONF_PASSWORD): cv.string})

PROVISION_MANY_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_ADDRESS, default=list): vol.All(cv.ensure_list, [cv.string]),
        **_NETWORK,
        vol.Optional(ATTR_OVERRIDES, default=dict): {cv.string: _OVERRIDE},
        vol.Optional(ATTR_VERIFY, default=False): cv.boolean,
    }
)

MOVE_FLEET_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        **_NETWORK,
        vol.Optional(ATTR_CANARY): cv.string,
        vol.Optional(ATTR_WAVE_SIZE, default=5): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_WAVE_SIZE)
        ),
        vol.Optional(ATTR_VERIFY_WAVES, default=False): cv.boolean,
    }
)


def _validation(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _members(call: ServiceCall) -> list[Member]:
    """Return the devices the call names, once each, in the order given."""
    hass = call.hass
    members: dict[str, Member] = {}
    for device_id in call.data[ATTR_DEVICE_ID]:
        member = Member.configured(hass, coordinator_for_device(hass, device_id))
        members.setdefault(member.address, member)
    for given in call.data.get(ATTR_ADDRESS, ()):
        address = given.upper()
        if (entry := entry_for_address(hass, address)) is not None:
            member = Member.configured(hass, loaded_coordinator(entry))
        elif (found := discovered_device(hass, address)) is not None:
            member = Member.found(found)
        else:
            raise _validation("unknown_address", address=address)
        members.setdefault(member.address, member)
    if not members:
        raise _validation("no_devices")
    return list(members.values())


def _request(call: ServiceCall, member: Member, override: Mapping[str, Any]) -> ProvisionRequest:
    """Return the member's checked request, or raise the translated validation error."""
    values = {**call.data, **override}
    request, errors = member.check(call.hass, values)
    if request is None:
        field, reason = next(iter(errors.items()))
        raise _validation(reason, field=field, address=member.address, name=member.name)
    return request


def _override(call: ServiceCall, member: Member) -> Mapping[str, Any]:
    overrides: Mapping[str, Mapping[str, Any]] = call.data.get(ATTR_OVERRIDES, {})
    for key in (member.device_id, member.address, member.address.lower()):
        if key is not None and key in overrides:
            return overrides[key]
    return {}


def _check_overrides(call: ServiceCall, members: list[Member]) -> None:
    known = {key for member in members for key in (member.device_id, member.address)}
    for key in call.data.get(ATTR_OVERRIDES, {}):
        if key not in known and key.upper() not in known:
            raise _validation("unknown_override", device=key)


async def _async_provision_many(call: ServiceCall) -> ServiceResponse:
    members = _members(call)
    _check_overrides(call, members)
    requests = {
        member.address: _request(call, member, _override(call, member)) for member in members
    }
    engine = batch_engine(call.hass)
    results: dict[str, DeviceResult] = {}
    with EntryHold(members, SERVICE_PROVISION_MANY) as hold:
        run = engine.provision(
            [member.target(requests[member.address]) for member in members],
            verify=call.data[ATTR_VERIFY],
        )
        async with run:
            async for result in run:
                results[result.address] = result
                hold.keep(result)
    response = [member.response(results[member.address]) for member in members]
    failed = sum(1 for item in response if not item["success"])
    if failed and not call.return_response:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="batch_failed",
            translation_placeholders={"failed": str(failed), "total": str(len(response))},
        )
    summary: dict[str, Any] = {
        "total": len(response),
        "succeeded": len(response) - failed,
        "failed": failed,
        "results": response,
    }
    return summary


async def _async_move_fleet(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    members = _members(call)
    by_address = {member.address: member for member in members}
    canary: str | None = None
    if (canary_id := call.data.get(ATTR_CANARY)) is not None:
        canary = coordinator_for_device(hass, canary_id).address
        if canary not in by_address:
            raise _validation("invalid_canary", device=canary_id)
    requests = [_request(call, member, {}) for member in members]
    move = FleetMove(
        batch_engine(hass),
        [member.target() for member in members],
        requests[0],  # one network for all: the same fields, checked for every protocol
        wave_size=call.data[ATTR_WAVE_SIZE],
        canary=canary,
        verify=True,
        verify_waves=call.data[ATTR_VERIFY_WAVES],
    )
    with EntryHold(members, SERVICE_MOVE_FLEET) as hold:
        async with move:
            async for result in move:
                hold.keep(result)
    report = move.report
    if not report.completed and not call.return_response:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="move_stopped",
            translation_placeholders={
                "moved": str(len(report.moved)),
                "failed": str(len(report.failed)),
                "untouched": str(len(report.untouched)),
            },
        )

    def _listed(results: list[DeviceResult]) -> list[dict[str, Any]]:
        return [by_address[result.address].response(result) for result in results]

    summary: dict[str, Any] = {
        "completed": report.completed,
        "canary": None
        if report.canary is None
        else by_address[report.canary.address].response(report.canary),
        "moved": _listed(report.moved),
        "failed": _listed(report.failed),
        "untouched": [
            {
                "device_id": by_address[address].device_id,
                "address": address,
                "name": by_address[address].name,
            }
            for address in report.untouched
        ],
    }
    return summary


BATCH_SERVICES: tuple[
    tuple[
        str,
        Any,  # a voluptuous schema (see services._SERVICES)
        Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
        SupportsResponse,
    ],
    ...,
] = (
    (
        SERVICE_PROVISION_MANY,
        PROVISION_MANY_SCHEMA,
        _async_provision_many,
        SupportsResponse.OPTIONAL,
    ),
    (SERVICE_MOVE_FLEET, MOVE_FLEET_SCHEMA, _async_move_fleet, SupportsResponse.OPTIONAL),
)

"""Actions: provision, scan, status, custom data, disconnect Wi-Fi (batches: services_batch)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import (
    CONF_ALLOW_CLEARTEXT,
    CONF_BSSID,
    CONF_MODE,
    CONF_SOFTAP_AUTH_MODE,
    CONF_SOFTAP_CHANNEL,
    CONF_SOFTAP_MAX_CONNECTIONS,
    CONF_SOFTAP_PASSWORD,
    CONF_SOFTAP_SSID,
    CONF_SSID,
    CUSTOM_DATA_REPLY_TIMEOUT,
    DOMAIN,
)
from .coordinator import BleProvisioningCoordinator
from .device import failure_action_key, ha_error
from .protocol.blufi.const import MAX_MESSAGE_LEN
from .protocol.errors import ProvisioningError
from .protocol.models import SoftApAuth, WifiMode
from .services_batch import BATCH_SERVICES
from .targets import coordinator_for_device
from .wifi_request import SOFTAP_CHANNELS, SOFTAP_MAX_CONNECTIONS, provision_request

ATTR_DEVICE_ID = "device_id"
ATTR_PASSWORD = "password"
ATTR_DATA = "data"
ATTR_ENCODING = "encoding"
ATTR_WAIT_FOR_REPLY = "wait_for_reply"
ATTR_TIMEOUT = "timeout"

SERVICE_PROVISION_WIFI = "provision_wifi"
SERVICE_SCAN_WIFI = "scan_wifi"
SERVICE_GET_STATUS = "get_status"
SERVICE_SEND_CUSTOM_DATA = "send_custom_data"
SERVICE_DISCONNECT_WIFI = "disconnect_wifi"

ENCODINGS = ("text", "hex", "base64")

_DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})

PROVISION_SCHEMA = _DEVICE_SCHEMA.extend(
    {
        vol.Required(CONF_SSID): cv.string,
        vol.Optional(ATTR_PASSWORD): cv.string,
        vol.Optional(CONF_BSSID): cv.string,
        vol.Optional(CONF_MODE, default=WifiMode.STA.value): vol.In(
            [mode.value for mode in WifiMode]
        ),
        vol.Optional(CONF_SOFTAP_SSID): cv.string,
        vol.Optional(CONF_SOFTAP_PASSWORD): cv.string,
        vol.Optional(CONF_SOFTAP_AUTH_MODE): vol.In([auth.value for auth in SoftApAuth]),
        vol.Optional(CONF_SOFTAP_CHANNEL): vol.All(vol.Coerce(int), vol.Range(*SOFTAP_CHANNELS)),
        vol.Optional(CONF_SOFTAP_MAX_CONNECTIONS): vol.All(
            vol.Coerce(int), vol.Range(*SOFTAP_MAX_CONNECTIONS)
        ),
        vol.Optional(CONF_ALLOW_CLEARTEXT, default=False): cv.boolean,
    }
)

SEND_CUSTOM_DATA_SCHEMA = _DEVICE_SCHEMA.extend(
    {
        vol.Required(ATTR_DATA): cv.string,
        vol.Optional(ATTR_ENCODING, default="text"): vol.In(ENCODINGS),
        vol.Optional(ATTR_WAIT_FOR_REPLY, default=False): cv.boolean,
        vol.Optional(ATTR_TIMEOUT, default=CUSTOM_DATA_REPLY_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=0.5, max=120)
        ),
    }
)


def _coordinator(call: ServiceCall) -> BleProvisioningCoordinator:
    """Return the coordinator of the targeted device, or raise a validation error."""
    return coordinator_for_device(call.hass, call.data[ATTR_DEVICE_ID])


async def _run[T](coordinator: BleProvisioningCoordinator, operation: Awaitable[T]) -> T:
    """Await a device operation; map its errors to translated action errors."""
    try:
        return await operation
    except ProvisioningError as err:
        raise ha_error(err, coordinator.address) from err


async def _async_provision_wifi(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    request, errors = provision_request(coordinator.device, call.data)
    if request is None:
        field, reason = next(iter(errors.items()))
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=reason,
            translation_placeholders={"field": field, "address": coordinator.address},
        )
    report = await _run(coordinator, coordinator.async_provision(request))
    if not report.success:
        code = report.end_reason_code
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=failure_action_key(report.outcome, coordinator.data.failure),
            translation_placeholders={
                "ssid": request.ssid,
                "end_reason_code": "none" if code is None else str(code),
            },
        )
    return {
        "outcome": report.outcome.value,
        "ssid": request.ssid,
        "hostname": report.hostname,
        "security": report.security.value if report.security else None,
        "end_reason_code": report.end_reason_code,
        "ip_address": coordinator.data.ip_address,
    }


async def _async_scan_wifi(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    networks = await _run(coordinator, coordinator.async_scan())
    return {
        "networks": [
            {"ssid": network.ssid, "rssi": network.rssi, "auth": network.auth}
            for network in networks
        ]
    }


async def _async_get_status(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    status = await _run(coordinator, coordinator.async_get_status())
    response: dict[str, Any] = asdict(status)
    response["state"] = status.state.value
    response.pop("failure")
    response["failure_reason"] = "none" if status.failure is None else status.failure.value
    failure = coordinator.data.failure if status.failure is not None else None
    response["diagnosis"] = None if failure is None else failure.diagnosis.value
    response["ip_address"] = coordinator.data.ip_address
    response["mode"] = None if status.mode is None else status.mode.value
    return response


def _decode_payload(data: str, encoding: str) -> bytes:
    try:
        if encoding == "hex":
            payload = bytes.fromhex(data.replace(":", "").replace(" ", ""))
        elif encoding == "base64":
            payload = base64.b64decode(data, validate=True)
        else:
            payload = data.encode("utf-8")
    except (ValueError, binascii.Error) as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_custom_data",
            translation_placeholders={"encoding": encoding},
        ) from err
    if not payload:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_custom_data",
            translation_placeholders={"encoding": encoding},
        )
    if len(payload) > MAX_MESSAGE_LEN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="custom_data_too_long",
            translation_placeholders={"length": str(len(payload)), "max": str(MAX_MESSAGE_LEN)},
        )
    return payload


async def _async_send_custom_data(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    payload = _decode_payload(call.data[ATTR_DATA], call.data[ATTR_ENCODING])
    wait: bool = call.data[ATTR_WAIT_FOR_REPLY]
    reply = await _run(
        coordinator,
        coordinator.async_send_custom_data(
            payload, wait_reply=wait, timeout=call.data[ATTR_TIMEOUT]
        ),
    )
    if not call.return_response:
        return None
    response: dict[str, Any] = {"sent_bytes": len(payload)}
    if reply is not None:
        try:
            text: str | None = reply.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        response["reply"] = {
            "hex": reply.hex(),
            "base64": base64.b64encode(reply).decode("ascii"),
            "text": text,
        }
    return response


async def _async_disconnect_wifi(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    await _run(coordinator, coordinator.async_disconnect_wifi())
    return None


_SERVICES: tuple[
    tuple[
        str,
        Any,  # a voluptuous schema; HA 2026 annotates probatio's types (same runtime API)
        Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]],
        SupportsResponse,
    ],
    ...,
] = (
    (SERVICE_PROVISION_WIFI, PROVISION_SCHEMA, _async_provision_wifi, SupportsResponse.OPTIONAL),
    (SERVICE_SCAN_WIFI, _DEVICE_SCHEMA, _async_scan_wifi, SupportsResponse.ONLY),
    (SERVICE_GET_STATUS, _DEVICE_SCHEMA, _async_get_status, SupportsResponse.ONLY),
    (
        SERVICE_SEND_CUSTOM_DATA,
        SEND_CUSTOM_DATA_SCHEMA,
        _async_send_custom_data,
        SupportsResponse.OPTIONAL,
    ),
    (SERVICE_DISCONNECT_WIFI, _DEVICE_SCHEMA, _async_disconnect_wifi, SupportsResponse.NONE),
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    for name, schema, handler, supports_response in (*_SERVICES, *BATCH_SERVICES):
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports_response
        )

"""Issue 10, item 12 and issue 12, item 5: the forms and what they say.

Advanced settings kept after an error and used; station mode preselected; SoftAP fields only
for SoftAP modes; the security stated before the password is typed; clear text only with an
explicit acknowledgement; every error translated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults
from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.const import CONF_PROTOCOL_VERSION
from custom_components.ble_provisioning.protocol import errors as library_errors
from custom_components.ble_provisioning.protocol.bluenet import errors as bluenet_errors
from custom_components.ble_provisioning.protocol.blufi import errors as blufi_errors
from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.models import Protocol
from custom_components.ble_provisioning.wifi_form import WIFI_STEP_IDS, wifi_errors
from custom_components.ble_provisioning.wifi_request import provision_request

from .conftest import (
    BLUENET_ADDRESS,
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    blufi_networks,
    make_entry,
    setup_entry,
)
from .helpers import confirm_discovery, serialize_form, submit_wifi, suggested

TRANSLATIONS = json.loads(
    (
        Path(__file__).parents[2] / "custom_components/ble_provisioning/translations/en.json"
    ).read_text()
)
OPMODE_STA_SOFTAP = 3


def _section_suggestions(result: Any, name: str) -> dict[str, Any]:
    schema = result["data_schema"]
    for key, value in schema.schema.items():
        if key == name:
            assert isinstance(value, section)
            return {
                str(field): (field.description or {}).get("suggested_value")
                for field in value.schema.schema
                if (field.description or {}).get("suggested_value") is not None
            }
    raise AssertionError(f"no {name} section")


def _section_json(hass: HomeAssistant, result: Any, name: str) -> dict[str, Any]:
    for field in serialize_form(hass, result)["data_schema"]:
        if field["name"] == name:
            return dict(field)
    raise AssertionError(f"no {name} section")


async def test_wifi_form_preselects_station_and_hides_softap(
    hass: HomeAssistant, bench: Bench
) -> None:
    """The mode starts as station and no SoftAP field is on the Wi-Fi form.

    The advanced section has no default of its own: a default (``{}``) made the frontend use
    it instead of the section's field defaults, so the mode started with nothing selected.
    """
    await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    advanced = _section_json(hass, result, "advanced")
    assert advanced["type"] == "expandable"
    assert "default" not in advanced
    fields = {field["name"]: field for field in advanced["schema"]}
    assert set(fields) == {"bssid", "mode", "allow_cleartext"}
    assert fields["mode"]["default"] == "sta"
    assert advanced["expanded"] is False


async def test_advanced_settings_survive_errors_and_are_used(
    hass: HomeAssistant, bench: Bench
) -> None:
    """After a form error the BSSID and the mode are offered back (the section opened), and the
    device is provisioned in the chosen mode with the chosen BSSID.
    """
    emulator = await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    flow_id = result["flow_id"]
    advanced = {"bssid": "a4:cf:12:00:00:01", "mode": "sta_softap"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"ssid": "HomeNet", "password": "short", "advanced": advanced}
    )
    assert result["errors"] == {"password": "invalid_password"}
    assert _section_suggestions(result, "advanced") == {**advanced, "allow_cleartext": False}
    assert _section_json(hass, result, "advanced")["expanded"] is True
    assert suggested(result, "password") is None

    # The user fixes the password and submits what the form offers: SoftAP settings next.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"ssid": "HomeNet", "password": PASSWORD, "advanced": advanced}
    )
    assert result["step_id"] == "softap"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"softap_ssid": "ESP-AP", "softap_password": "short"}
    )
    assert result["errors"] == {"softap_password": "invalid_softap_password"}
    assert suggested(result, "softap_ssid") == "ESP-AP"
    assert suggested(result, "softap_password") is None
    result = await submit_wifi(
        hass,
        flow_id,
        {
            "softap_ssid": "ESP-AP",
            "softap_password": "ap-password",
            "softap_auth_mode": "wpa2_psk",
            "softap_channel": 6,
            "softap_max_connections": 3,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    model = emulator.model
    assert model.fields["opmode"][-1] == OPMODE_STA_SOFTAP
    assert model.sta_bssid == bytes.fromhex("a4cf12000001")
    assert model.fields["softap_ssid"][-1] == b"ESP-AP"
    assert model.fields["softap_passwd"][-1] == b"ap-password"
    assert model.fields["softap_channel"][-1] == 6
    assert model.fields["softap_max_conn_num"][-1] == 3
    assert model.sta_password == PASSWORD.encode()


@pytest.mark.parametrize(
    ("softap", "errors"),
    [
        (
            {"softap_ssid": "x" * 32, "softap_password": "ap-password"},
            {"softap_ssid": "invalid_softap_ssid"},
        ),
        (
            {"softap_ssid": "ESP-AP", "softap_auth_mode": "open", "softap_password": "ap-password"},
            {"softap_password": "invalid_softap_password"},
        ),
        ({"softap_ssid": "ESP-AP"}, {"softap_password": "invalid_softap_password"}),
    ],
)
async def test_softap_form_errors(
    hass: HomeAssistant, bench: Bench, softap: dict[str, Any], errors: dict[str, str]
) -> None:
    """The SoftAP form checks its own fields; nothing is sent."""
    emulator = await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ssid": "HomeNet", "advanced": {"mode": "softap"}}
    )
    assert result["step_id"] == "softap"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], softap)
    assert result["step_id"] == "softap"
    assert result["errors"] == errors
    assert not emulator.model.fields


async def test_softap_only_mode(hass: HomeAssistant, bench: Bench) -> None:
    """SoftAP-only mode: the device opens its access point, no station network is joined."""
    emulator = await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ssid": "HomeNet", "advanced": {"mode": "softap"}}
    )
    result = await submit_wifi(
        hass,
        result["flow_id"],
        {"softap_ssid": "ESP-AP", "softap_auth_mode": "open"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert emulator.model.fields["softap_ssid"][-1] == b"ESP-AP"
    assert "sta_ssid" not in emulator.model.fields


async def test_bluenet_requires_cleartext_acknowledgement(
    hass: HomeAssistant, bench: Bench
) -> None:
    """Bluenet sends the password in clear text: nothing is sent until the user accepts it."""
    emulator = await bench.bluenet()
    result = await confirm_discovery(hass, BLUENET_ADDRESS)
    assert result["step_id"] == "wifi_cleartext"
    names = [field["name"] for field in serialize_form(hass, result)["data_schema"]]
    assert names == ["ssid", "password", "rescan", "allow_cleartext"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD}
    )
    assert result["errors"] == {"allow_cleartext": "cleartext_not_allowed"}
    assert not emulator.model.joins
    # Accepted once, the acknowledgement is offered back after another error.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ssid": "HomeNet", "password": "short", "allow_cleartext": True}
    )
    assert result["errors"] == {"password": "invalid_password"}
    assert suggested(result, "allow_cleartext") is True
    result = await submit_wifi(
        hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD, "allow_cleartext": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_blufi_cleartext_only_as_consented_fallback(
    hass: HomeAssistant, bench: Bench
) -> None:
    """A BluFi device that cannot negotiate: refused, then sent in clear text once allowed;
    the provisioning security sensor then says how the password travelled.
    """
    emulator = await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    emulator.model.config.faults = BlufiFaults(drop_notifications={1})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(const, "CONNECT_TIMEOUT", 0.3)
        result = await submit_wifi(
            hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD}
        )
        assert result["errors"] == {"base": "security_failed"}
        result = await submit_wifi(
            hass,
            result["flow_id"],
            {"ssid": "HomeNet", "password": PASSWORD, "advanced": {"allow_cleartext": True}},
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["last_security"] == "cleartext"
    await hass.async_block_till_done()
    security = hass.states.get("sensor.blufi_device_provisioning_security")
    assert security is not None
    assert security.state == "cleartext"


@pytest.mark.parametrize(
    ("profile", "step_id", "words"),
    [
        ("v6.0", "wifi", "Security: encrypted"),
        ("v5.5", "wifi_legacy", "Security: legacy key exchange"),
    ],
)
async def test_security_stated_before_the_password(
    hass: HomeAssistant, bench: Bench, profile: str, step_id: str, words: str
) -> None:
    """The Wi-Fi form (where the password is typed) states the device's security, translated."""
    await bench.blufi(profile=profile)
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    assert result["step_id"] == step_id
    assert words in TRANSLATIONS["config"]["step"][step_id]["description"]
    assert "Security: clear text" in TRANSLATIONS["config"]["step"]["wifi_cleartext"]["description"]


async def test_reconfigure_form_names_version_and_security(
    hass: HomeAssistant, bench: Bench
) -> None:
    """The reconfigure form shows the stored protocol version (security by its form); an entry
    without one is identified first instead of showing "-".
    """
    await bench.blufi(BlufiDeviceConfig(networks=blufi_networks(), seed=4), profile="v5.5")
    entry = make_entry(BLUFI_ADDRESS, "blufi", version="1.3")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "wifi_legacy"
    assert result["description_placeholders"]["version"] == "1.3"
    hass.config_entries.flow.async_abort(result["flow_id"])

    data = dict(entry.data)
    del data[CONF_PROTOCOL_VERSION]
    hass.config_entries.async_update_entry(entry, data=data)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "wifi_legacy"
    assert result["description_placeholders"]["version"] == "1.3"
    assert "-" not in result["description_placeholders"].values()


def _error_classes() -> set[type[library_errors.ProvisioningError]]:
    found: set[type[library_errors.ProvisioningError]] = set()
    pending: list[type[library_errors.ProvisioningError]] = [library_errors.ProvisioningError]
    assert blufi_errors  # imported for their subclasses
    assert bluenet_errors
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_library_error_is_translated() -> None:
    """Every error key the library can raise has a form error and an action message."""
    keys = {cls.error_key for cls in _error_classes()}
    assert "not_supported_device" in keys
    assert keys <= set(TRANSLATIONS["config"]["error"])
    assert keys <= set(TRANSLATIONS["exceptions"])


def test_every_wifi_form_is_translated() -> None:
    """Each Wi-Fi form variant has its title, description, fields and (BluFi) section."""
    steps = TRANSLATIONS["config"]["step"]
    for step_id in (*WIFI_STEP_IDS, "softap"):
        assert steps[step_id]["title"]
        assert steps[step_id]["description"]
        assert steps[step_id]["data"]
    for step_id in ("wifi", "wifi_legacy", "wifi_unidentified"):
        assert set(steps[step_id]["sections"]["advanced"]["data"]) == {
            "bssid",
            "mode",
            "allow_cleartext",
        }


async def test_options_error_states_the_minimum(hass: HomeAssistant, bench: Bench) -> None:
    """The options form's error names the 30 s minimum (and the maximum)."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"status_interval": 5}
    )
    assert result["errors"] == {"status_interval": "invalid_status_interval"}
    message = TRANSLATIONS["options"]["error"]["invalid_status_interval"].format(
        **result["description_placeholders"]
    )
    assert "30 seconds" in message


async def test_reconfigure_unidentified_device(hass: HomeAssistant, bench: Bench) -> None:
    """An entry without a stored version whose device cannot be identified: the form says the
    security is negotiated when the password is sent, and shows why identifying failed.
    """
    entry = make_entry("24:0A:C4:00:00:99", "blufi")
    data = dict(entry.data)
    del data[CONF_PROTOCOL_VERSION]
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data=data)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "wifi_unidentified"
    assert result["errors"] == {"base": "device_not_found"}
    hass.config_entries.flow.async_abort(result["flow_id"])


def test_provision_request_refuses_what_forms_and_actions_cannot_send() -> None:
    """Direct callers get the same checks the schemas make (range, enums)."""
    blufi = create_device(Protocol.BLUFI, lambda: None, address=BLUFI_ADDRESS)
    base = {"ssid": "HomeNet", "password": PASSWORD}
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({"mode": "mesh"}, {"mode": "not_supported_operation"}),
        (
            {
                "mode": "softap",
                "softap_ssid": "AP",
                "softap_password": "ap-password",
                "softap_auth_mode": "wep",
            },
            {"softap_auth_mode": "invalid_softap_auth_mode"},
        ),
        (
            {
                "mode": "softap",
                "softap_ssid": "AP",
                "softap_auth_mode": "open",
                "softap_channel": 14,
            },
            {"softap_channel": "invalid_softap_channel"},
        ),
        (
            {
                "mode": "softap",
                "softap_ssid": "AP",
                "softap_auth_mode": "open",
                "softap_max_connections": True,
            },
            {"softap_max_connections": "invalid_softap_max_connections"},
        ),
    ]
    for values, errors in cases:
        request, found = provision_request(blufi, base | values)
        assert request is None
        assert found == errors
    request, found = provision_request(
        blufi, base | {"mode": "softap", "softap_ssid": "AP", "softap_password": "ap-password"}
    )
    assert found == {}
    assert request is not None
    assert request.softap is not None
    assert request.softap.auth == "wpa2_psk"
    assert wifi_errors({"softap_ssid": "invalid_softap_ssid"}, blufi.capabilities) == {
        "base": "invalid_softap_ssid"
    }

"""Device-fed data is bounded (issue 10 item 5); caller input is checked with BluFi's limits
before anything is sent; the negotiator's bookkeeping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiFrameError,
    BlufiSecurity,
    BlufiSecurityError,
    BlufiVersion,
    DataSubtype,
    OpMode,
    SoftApAuthMode,
    SoftApConfig,
    WifiStatus,
)
from custom_components.ble_provisioning.protocol.blufi.dh import V1_SAFE_GROUP, V2_GROUP, DhGroup
from custom_components.ble_provisioning.protocol.blufi.fields import (
    blob,
    check_opmode,
    softap_fields,
    sta_fields,
)
from custom_components.ble_provisioning.protocol.blufi.models import (
    MAX_NETWORKS,
    MAX_UNKNOWN_TLVS,
    parse_wifi_list,
)
from custom_components.ble_provisioning.protocol.blufi.negotiation import (
    Negotiator,
    groups_for,
    security_for_version,
)
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    session_for,
)
from custom_components.ble_provisioning.protocol.errors import InvalidInputError


def _tlv(kind: int, value: bytes) -> bytes:
    return bytes((kind, len(value))) + value


# ---------------------------------------------------------------- device reports and lists


def test_report_ssid_over_32_bytes_is_refused() -> None:
    """Main accepted any SSID length in a report (the device's buffer holds 32)."""
    header = bytes((OpMode.STA, 0, 0))
    assert WifiStatus.parse(header + _tlv(DataSubtype.STA_SSID, b"s" * 32)).ssid == "s" * 32
    for kind in (DataSubtype.STA_SSID, DataSubtype.SOFTAP_SSID):
        with pytest.raises(BlufiFrameError, match="longer than 32"):
            WifiStatus.parse(header + _tlv(kind, b"s" * 33))
    for kind in (DataSubtype.STA_PASSWD, DataSubtype.SOFTAP_PASSWD):
        with pytest.raises(BlufiFrameError, match="longer than 64"):
            WifiStatus.parse(header + _tlv(kind, b"p" * 65))


def test_report_unknown_tlvs_are_capped_and_fields_checked() -> None:
    header = bytes((OpMode.SOFTAP, 1, 2))
    many = b"".join(_tlv(0x30 + i % 8, bytes((i,))) for i in range(100))
    status = WifiStatus.parse(header + many)
    assert len(status.unknown_tlvs) == MAX_UNKNOWN_TLVS
    with pytest.raises(BlufiFrameError, match="must be 1 byte"):
        WifiStatus.parse(header + _tlv(DataSubtype.SOFTAP_CHANNEL, b"\x01\x02"))
    with pytest.raises(BlufiFrameError, match="BSSID TLV"):
        WifiStatus.parse(header + _tlv(DataSubtype.STA_BSSID, b"\x01\x02"))
    softap = WifiStatus.parse(header + _tlv(DataSubtype.SOFTAP_SSID, b"AP"))
    assert softap.softap_ssid == "AP"
    assert WifiStatus.parse(header).softap_ssid is None


def test_wifi_list_is_bounded() -> None:
    """Main accepted 255-byte SSIDs and kept every record."""
    record = bytes((8, 0xC0)) + b"network"
    assert [n.ssid for n in parse_wifi_list(record)] == ["network"]
    with pytest.raises(BlufiFrameError, match="longer than 32"):
        parse_wifi_list(bytes((34, 0xC0)) + b"s" * 33)
    many = (bytes((2, 0xC0)) + b"x") * (MAX_NETWORKS + 50)
    assert len(parse_wifi_list(many)) == MAX_NETWORKS


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.4", BlufiVersion(1, 4)), (" 1.3 ", BlufiVersion(1, 3)), ("1", None), ("a.b", None)],
)
def test_version_from_text(text: str, version: BlufiVersion | None) -> None:
    assert BlufiVersion.from_text(text) == version
    assert BlufiVersion.from_text("256.1") is None


# ---------------------------------------------------------------- caller input


def test_sta_fields_follow_the_blufi_limits() -> None:
    assert sta_fields("Open", None) == [(DataSubtype.STA_SSID, b"Open")]
    assert sta_fields("Open", "") == [(DataSubtype.STA_SSID, b"Open")]
    assert sta_fields("Home", "password1", "a4:cf:12:34:56:78") == [
        (DataSubtype.STA_BSSID, bytes.fromhex("a4cf12345678")),
        (DataSubtype.STA_SSID, b"Home"),
        (DataSubtype.STA_PASSWD, b"password1"),
    ]
    with pytest.raises(InvalidInputError) as caught:
        sta_fields("s" * 32, "password1")
    assert (caught.value.field, caught.value.reason) == ("ssid", "invalid_ssid")
    with pytest.raises(InvalidInputError) as caught:
        sta_fields("Home", "0123456789abcdef" * 4)
    assert caught.value.field == "password"


def test_softap_fields() -> None:
    config = SoftApConfig("AP", "", 13, 4, SoftApAuthMode.OPEN)
    assert softap_fields(config) == [
        (DataSubtype.SOFTAP_SSID, b"AP"),
        (DataSubtype.SOFTAP_CHANNEL, b"\x0d"),
        (DataSubtype.SOFTAP_MAX_CONN_NUM, b"\x04"),
        (DataSubtype.SOFTAP_AUTH_MODE, b"\x00"),
    ]
    assert softap_fields(SoftApConfig()) == []
    for bad, field in (
        (SoftApConfig(channel=14), "softap_channel"),
        (SoftApConfig(channel=True), "softap_channel"),
        (SoftApConfig(max_connections=5), "softap_max_connections"),
        (SoftApConfig(password="short"), "softap_password"),
        (SoftApConfig(ssid=""), "softap_ssid"),
        (SoftApConfig(auth_mode=42), "softap_auth_mode"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInputError) as caught:
            softap_fields(bad)
        assert caught.value.field == field


def test_opmode_and_blobs() -> None:
    assert check_opmode(3) is OpMode.SOFTAP_STA
    with pytest.raises(InvalidInputError, match="opmode"):
        check_opmode(4)
    assert blob(bytearray(b"ab"), "custom_data") == b"ab"
    assert blob("user", "username", text=True) == b"user"
    with pytest.raises(InvalidInputError, match="must be bytes"):
        blob("text", "custom_data")
    with pytest.raises(InvalidInputError, match="longer than"):
        blob(bytes(65536), "custom_data")


# ---------------------------------------------------------------- negotiator bookkeeping


class _Link:
    name = "stub"
    security = BlufiSecurity.NONE


def test_groups_and_security_for_version() -> None:
    assert groups_for(BlufiSecurity.V2) == (V2_GROUP,)
    assert groups_for(BlufiSecurity.V1)[0] is V1_SAFE_GROUP
    assert security_for_version(BlufiVersion(1, 4)) is BlufiSecurity.V2
    assert security_for_version(BlufiVersion(1, 3)) is BlufiSecurity.V1


async def test_prepared_key_pairs_are_used_once_and_dropped() -> None:
    made: list[DhGroup] = []

    def factory(group: DhGroup) -> BlufiSession:
        made.append(group)
        return session_for(group)

    negotiator = Negotiator(_Link(), factory)  # type: ignore[arg-type]
    negotiator.prepare(BlufiSecurity.NONE)
    negotiator.prepare(BlufiSecurity.V2)
    negotiator.prepare(BlufiSecurity.V2)  # already under way
    assert await negotiator.negotiate(BlufiSecurity.NONE) is BlufiSecurity.NONE
    session = await negotiator._session(V2_GROUP)
    assert made == [V2_GROUP]
    assert session.group is V2_GROUP
    negotiator.prepare(BlufiSecurity.V1)
    pending = negotiator._prepared[V1_SAFE_GROUP]
    negotiator.discard()  # while the key pair is still being made: dropped when it is done
    assert not negotiator._prepared
    await asyncio.wait([pending])


async def test_key_generation_failures_are_security_errors() -> None:
    def refused(group: DhGroup) -> Any:
        raise BlufiSecurityError("refused")

    def broken(group: DhGroup) -> Any:
        raise MemoryError

    with pytest.raises(BlufiSecurityError, match="refused"):
        await Negotiator(_Link(), refused)._session(V2_GROUP)  # type: ignore[arg-type]
    with pytest.raises(BlufiSecurityError, match="key generation failed"):
        await Negotiator(_Link(), broken)._session(V2_GROUP)  # type: ignore[arg-type]
    negotiator = Negotiator(_Link(), refused)  # type: ignore[arg-type]
    negotiator.prepare(BlufiSecurity.V2)
    await asyncio.wait(list(negotiator._prepared.values()))
    negotiator.discard()  # a failed key pair: its error is retrieved, not left unhandled

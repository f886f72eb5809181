"""Device-to-phone payloads the BluFi stack builds (``blufi_prf.c``).

* :func:`encode_conn_report` is ``btc_blufi_wifi_conn_report``: ``opmode, sta_state,
  softap_conn_num`` then TLVs in the stack's fixed order (BSSID, STA SSID, STA password,
  SoftAP SSID, SoftAP password, auth mode, max connections, channel, max retry, end reason,
  RSSI), SSIDs cut at 32 bytes and passwords at 64, nothing sent above 512 bytes;
* :func:`encode_wifi_list` is ``btc_blufi_send_wifi_list``: ``[len(ssid)+1][rssi][ssid]`` per AP.
"""

from __future__ import annotations

from dataclasses import dataclass

from custom_components.ble_provisioning.protocol.blufi.const import DataSubtype

SSID_MAX = 32
PASSWORD_MAX = 64
REPORT_MAX = 512


@dataclass(frozen=True, slots=True)
class ExtraInfo:
    """``esp_blufi_extra_info_t``: the optional report fields (None = not set)."""

    sta_bssid: bytes | None = None
    sta_ssid: bytes | None = None
    sta_passwd: bytes | None = None
    softap_ssid: bytes | None = None
    softap_passwd: bytes | None = None
    softap_authmode: int | None = None
    softap_max_conn_num: int | None = None
    softap_channel: int | None = None
    sta_max_conn_retry: int | None = None
    sta_conn_end_reason: int | None = None
    sta_conn_rssi: int | None = None


def _tlv(subtype: int, value: bytes) -> bytes:
    return bytes((subtype, len(value))) + value


def encode_conn_report(
    opmode: int, sta_state: int, softap_conn_num: int, info: ExtraInfo | None
) -> bytes | None:
    """Return the Wi-Fi report payload (None above 512 bytes: then nothing is sent)."""
    out = bytearray((opmode & 0xFF, sta_state & 0xFF, softap_conn_num & 0xFF))
    if info is not None:
        for subtype, raw, limit in (
            (DataSubtype.STA_BSSID, info.sta_bssid, 6),
            (DataSubtype.STA_SSID, info.sta_ssid, SSID_MAX),
            (DataSubtype.STA_PASSWD, info.sta_passwd, PASSWORD_MAX),
            (DataSubtype.SOFTAP_SSID, info.softap_ssid, SSID_MAX),
            (DataSubtype.SOFTAP_PASSWD, info.softap_passwd, PASSWORD_MAX),
        ):
            if raw is not None:
                out += _tlv(subtype, raw[:limit])
        for subtype, number in (
            (DataSubtype.SOFTAP_AUTH_MODE, info.softap_authmode),
            (DataSubtype.SOFTAP_MAX_CONN_NUM, info.softap_max_conn_num),
            (DataSubtype.SOFTAP_CHANNEL, info.softap_channel),
            (DataSubtype.STA_MAX_CONN_RETRY, info.sta_max_conn_retry),
            (DataSubtype.STA_CONN_END_REASON, info.sta_conn_end_reason),
            (DataSubtype.STA_CONN_RSSI, info.sta_conn_rssi),
        ):
            if number is not None:
                out += _tlv(subtype, bytes((number & 0xFF,)))
    if len(out) > REPORT_MAX:
        return None
    return bytes(out)


def encode_wifi_list(records: list[tuple[bytes, int]]) -> bytes:
    """Return the Wi-Fi list payload of ``(ssid, rssi)`` records (SSIDs up to 32 bytes)."""
    out = bytearray()
    for ssid, rssi in records:
        name = ssid[:SSID_MAX].split(b"\0", 1)[0]  # strnlen
        out += bytes((len(name) + 1, rssi & 0xFF)) + name
    return bytes(out)

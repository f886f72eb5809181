"""Constants of the Espressif BluFi protocol (see the BluFi spec §1, §2.1, §4.4, §4.6, §5)."""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final

SERVICE_UUID: Final = "0000ffff-0000-1000-8000-00805f9b34fb"
WRITE_CHAR_UUID: Final = "0000ff01-0000-1000-8000-00805f9b34fb"  # phone -> ESP (P2E)
NOTIFY_CHAR_UUID: Final = "0000ff02-0000-1000-8000-00805f9b34fb"  # ESP -> phone (E2P)
NOTIFY_DESC_UUID: Final = "00002902-0000-1000-8000-00805f9b34fb"  # CCCD
DEFAULT_DEVICE_NAME: Final = "BLUFI_DEVICE"
NAME_PREFIX: Final = "BLUFI"

HEADER_LEN: Final = 4
CHECKSUM_LEN: Final = 2
FRAG_PREFIX_LEN: Final = 2
MAX_DATA_LEN: Final = 255
MAX_MESSAGE_LEN: Final = 0xFFFF
ATT_OVERHEAD: Final = 3
DEFAULT_MTU: Final = 23
MIN_MTU: Final = 23
MAX_SSID_LEN: Final = 32
"""Longest SSID (802.11); a longer one in a device's report or Wi-Fi list is malformed."""
MAX_PASSWORD_LEN: Final = 64
"""Longest password a device's report can carry (ESP-IDF's buffer)."""


class FrameType(IntEnum):
    """Bits 1..0 of the type byte."""

    CTRL = 0
    DATA = 1


class ControlSubtype(IntEnum):
    """Control frame subtypes (type 0)."""

    ACK = 0x00
    SET_SEC_MODE = 0x01
    SET_WIFI_OPMODE = 0x02
    CONN_TO_AP = 0x03
    DISCONN_FROM_AP = 0x04
    GET_WIFI_STATUS = 0x05
    DEAUTHENTICATE_STA = 0x06
    GET_VERSION = 0x07
    DISCONNECT_BLE = 0x08
    GET_WIFI_LIST = 0x09


class DataSubtype(IntEnum):
    """Data frame subtypes (type 1); 0x01-0x08 and 0x14-0x16 double as report TLV types."""

    NEG = 0x00
    STA_BSSID = 0x01
    STA_SSID = 0x02
    STA_PASSWD = 0x03
    SOFTAP_SSID = 0x04
    SOFTAP_PASSWD = 0x05
    SOFTAP_MAX_CONN_NUM = 0x06
    SOFTAP_AUTH_MODE = 0x07
    SOFTAP_CHANNEL = 0x08
    USERNAME = 0x09
    CA_CERT = 0x0A
    CLIENT_CERT = 0x0B
    SERVER_CERT = 0x0C
    CLIENT_PRIV_KEY = 0x0D
    SERVER_PRIV_KEY = 0x0E
    WIFI_REP = 0x0F
    REPLY_VERSION = 0x10
    WIFI_LIST = 0x11
    ERROR_INFO = 0x12
    CUSTOM_DATA = 0x13
    STA_MAX_CONN_RETRY = 0x14
    STA_CONN_END_REASON = 0x15
    STA_CONN_RSSI = 0x16


#: Data subtypes whose payload is a secret: never logged.
SECRET_SUBTYPES: Final = frozenset(
    {
        DataSubtype.STA_PASSWD,
        DataSubtype.SOFTAP_PASSWD,
        DataSubtype.CLIENT_PRIV_KEY,
        DataSubtype.SERVER_PRIV_KEY,
        DataSubtype.CA_CERT,
        DataSubtype.CLIENT_CERT,
        DataSubtype.SERVER_CERT,
        DataSubtype.USERNAME,
    }
)


def type_byte(frame_type: FrameType | int, subtype: int) -> int:
    """Return the wire type byte ``(subtype << 2) | type``."""
    return ((subtype & 0x3F) << 2) | (int(frame_type) & 0x03)


def split_type_byte(value: int) -> tuple[int, int]:
    """Return ``(frame_type, subtype)`` of a wire type byte."""
    return value & 0x03, (value >> 2) & 0x3F


class FrameControl(IntFlag):
    """Frame-control bits (§1.4)."""

    NONE = 0x00
    ENC = 0x01
    CHECK = 0x02
    DIR = 0x04
    REQ_ACK = 0x08
    FRAG = 0x10


class SecurityMode(IntFlag):
    """SET_SEC_MODE payload bits (§2.1)."""

    NONE = 0x00
    DATA_CHECK = 0x01
    DATA_ENC = 0x02
    CTRL_CHECK = 0x10
    CTRL_ENC = 0x20


class NegType(IntEnum):
    """First byte of a phone NEG packet (§2.2)."""

    DH_PARAM_LEN = 0x00
    DH_PARAM_DATA = 0x01
    DH_P = 0x02
    DH_G = 0x03
    DH_PUBLIC = 0x04


class OpMode(IntEnum):
    """Wi-Fi operating mode (``wifi_mode_t``)."""

    NULL = 0x00
    STA = 0x01
    SOFTAP = 0x02
    SOFTAP_STA = 0x03


class SoftApAuthMode(IntEnum):
    """SoftAP authentication mode (``wifi_auth_mode_t``)."""

    OPEN = 0x00
    WEP = 0x01
    WPA_PSK = 0x02
    WPA2_PSK = 0x03
    WPA_WPA2_PSK = 0x04
    WPA2_ENTERPRISE = 0x05
    WPA3_PSK = 0x06
    WPA2_WPA3_PSK = 0x07


class StaConnState(IntEnum):
    """STA connection state, byte 1 of the Wi-Fi report (``esp_blufi_sta_conn_state_t``)."""

    CONNECTED = 0x00
    FAIL = 0x01
    CONNECTING = 0x02
    CONNECTED_NO_IP = 0x03


class ErrorCode(IntEnum):
    """Device error report codes (``esp_blufi_error_state_t``, §4.4)."""

    SEQUENCE_ERROR = 0x00
    CHECKSUM_ERROR = 0x01
    DECRYPT_ERROR = 0x02
    ENCRYPT_ERROR = 0x03
    INIT_SECURITY_ERROR = 0x04
    DH_MALLOC_ERROR = 0x05
    DH_PARAM_ERROR = 0x06
    READ_PARAM_ERROR = 0x07
    MAKE_PUBLIC_ERROR = 0x08
    DATA_FORMAT_ERROR = 0x09
    CALC_MD5_ERROR = 0x0A
    WIFI_SCAN_FAIL = 0x0B
    MSG_STATE_ERROR = 0x0C
    CALC_SHA_256_ERROR = 0x0D


class WifiReason(IntEnum):
    """``wifi_err_reason_t`` as sent (truncated to 8 bits) in report TLV 0x15 (§4.6)."""

    UNSPECIFIED = 1
    AUTH_EXPIRE = 2
    AUTH_LEAVE = 3
    DISASSOC_DUE_TO_INACTIVITY = 4
    ASSOC_TOOMANY = 5
    CLASS2_FRAME_FROM_NONAUTH_STA = 6
    CLASS3_FRAME_FROM_NONASSOC_STA = 7
    ASSOC_LEAVE = 8
    ASSOC_NOT_AUTHED = 9
    DISASSOC_PWRCAP_BAD = 10
    DISASSOC_SUPCHAN_BAD = 11
    BSS_TRANSITION_DISASSOC = 12
    IE_INVALID = 13
    MIC_FAILURE = 14
    FOURWAY_HANDSHAKE_TIMEOUT = 15
    GROUP_KEY_UPDATE_TIMEOUT = 16
    IE_IN_4WAY_DIFFERS = 17
    GROUP_CIPHER_INVALID = 18
    PAIRWISE_CIPHER_INVALID = 19
    AKMP_INVALID = 20
    UNSUPP_RSN_IE_VERSION = 21
    INVALID_RSN_IE_CAP = 22
    IEEE_802_1X_AUTH_FAILED = 23
    CIPHER_SUITE_REJECTED = 24
    TDLS_PEER_UNREACHABLE = 25
    TDLS_UNSPECIFIED = 26
    SSP_REQUESTED_DISASSOC = 27
    NO_SSP_ROAMING_AGREEMENT = 28
    BAD_CIPHER_OR_AKM = 29
    NOT_AUTHORIZED_THIS_LOCATION = 30
    SERVICE_CHANGE_PERCLUDES_TS = 31
    UNSPECIFIED_QOS = 32
    NOT_ENOUGH_BANDWIDTH = 33
    MISSING_ACKS = 34
    EXCEEDED_TXOP = 35
    STA_LEAVING = 36
    END_BA = 37
    UNKNOWN_BA = 38
    TIMEOUT = 39
    PEER_INITIATED = 46
    AP_INITIATED = 47
    INVALID_FT_ACTION_FRAME_COUNT = 48
    INVALID_PMKID = 49
    INVALID_MDE = 50
    INVALID_FTE = 51
    TRANSMISSION_LINK_ESTABLISH_FAILED = 67
    ALTERATIVE_CHANNEL_OCCUPIED = 68
    BEACON_TIMEOUT = 200
    NO_AP_FOUND = 201
    AUTH_FAIL = 202
    ASSOC_FAIL = 203
    HANDSHAKE_TIMEOUT = 204
    CONNECTION_FAIL = 205
    AP_TSF_RESET = 206
    ROAMING = 207
    ASSOC_COMEBACK_TIME_TOO_LONG = 208
    SA_QUERY_TIMEOUT = 209
    NO_AP_FOUND_W_COMPATIBLE_SECURITY = 210
    NO_AP_FOUND_IN_AUTHMODE_THRESHOLD = 211
    NO_AP_FOUND_IN_RSSI_THRESHOLD = 212
    NONE = 255


def wifi_reason(value: int) -> WifiReason | int:
    """Return the named reason for ``value``, or the bare int when it has no name."""
    try:
        return WifiReason(value)
    except ValueError:
        return value


#: End reasons that mean "the password is wrong" (§4.6).
WRONG_PASSWORD_REASONS: Final = frozenset(
    {
        WifiReason.AUTH_EXPIRE,
        WifiReason.MIC_FAILURE,
        WifiReason.FOURWAY_HANDSHAKE_TIMEOUT,
        WifiReason.IEEE_802_1X_AUTH_FAILED,
        WifiReason.AUTH_FAIL,
        WifiReason.HANDSHAKE_TIMEOUT,
    }
)
#: End reasons that mean "the access point was not found".
AP_NOT_FOUND_REASONS: Final = frozenset(
    {
        WifiReason.NO_AP_FOUND,
        WifiReason.NO_AP_FOUND_W_COMPATIBLE_SECURITY,
        WifiReason.NO_AP_FOUND_IN_AUTHMODE_THRESHOLD,
        WifiReason.NO_AP_FOUND_IN_RSSI_THRESHOLD,
    }
)

#: Security V1 legacy DH prime (1024 bit, g = 2), sent by every official client (§2.3). Not a
#: safe prime: p - 1 = 2 * 2796436733 * (a 992-bit composite), so it has small subgroups.
V1_DH_P: Final = int(
    "cf5cf5c38419a724957ff5dd323b9c45c3cdd261eb740f69aa94b8bb1a5c9640"
    "9153bd76b24222d03274e4725a5406092e9e82e9135c643cae98132b0d95f7d6"
    "5347c68afc1e677da90e51bbab5f5cf429c291b4ba39c6b2dc5e8c7231e46aa7"
    "728e87664532cdf547be20c9a3fa8342be6e34371a27c06f7dc0edddd2f86373",
    16,
)
V1_LEGACY_DH_P: Final = V1_DH_P
#: The known small prime factors of ``V1_DH_P - 1`` (trial division to 2 000 000, Pollard rho and
#: p - 1 found no others): an element whose order divides their product has a small order.
V1_LEGACY_SMALL_FACTORS: Final = (2, 2796436733)
#: Security V1 default group: RFC 2409 group 2 (the 1024-bit Oakley MODP safe prime, g = 2).
#: ESP-IDF's example reads p from the client and checks only its length (128 bytes).
V1_SAFE_DH_P: Final = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74"
    "020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437"
    "4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff",
    16,
)
DH_G: Final = 2
V1_KEY_BYTES: Final = 128
V2_KEY_BYTES: Final = 384
#: Security V2 group: RFC 7919 ffdhe3072 (g = 2), fixed by the device (§2.4).
V2_DH_P: Final = int(
    "ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1d8b9c583ce2d3695"
    "a9e13641146433fbcc939dce249b3ef97d2fe363630c75d8f681b202aec4617a"
    "d3df1ed5d5fd65612433f51f5f066ed0856365553ded1af3b557135e7f57c935"
    "984f0c70e0e68b77e2a689daf3efe8721df158a136ade73530acca4f483a797a"
    "bc0ab182b324fb61d108a94bb2c8e3fbb96adab760d7f4681d4f42a3de394df4"
    "ae56ede76372bb190b07a7c8ee0a6d709e02fce1cdf7e2ecc03404cd28342f61"
    "9172fe9ce98583ff8e4f1232eef28183c3fe3b1b4c6fad733bb5fcbc2ec22005"
    "c58ef1837d1683b2c6f34a26c1b2effa886b4238611fcfdcde355b3b6519035b"
    "bc34f4def99c023861b46fc9d6e6c9077ad91d2691f7f7ee598cb0fac186d91c"
    "aefe130985139270b4130c93bc437944f4fd4452e2d74dd364f2e21e71f54bff"
    "5cae82ab9c9df69ee86d2bc522363a0dabc521979b0deada1dbf9a42d5c4484e"
    "0abcd06bfa53ddef3c1b20ee3fd59d7c25e41d2b66c62e37ffffffffffffffff",
    16,
)


class BlufiSecurity(IntEnum):
    """Session security: none (plaintext), V1 (BluFi <= 1.3) or V2 (BluFi 1.4)."""

    NONE = 0
    V1 = 1
    V2 = 2


#: First BluFi version that uses security V2.
V2_MIN_VERSION: Final = (1, 4)

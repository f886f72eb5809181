"""ESP-IDF example behaviours of the emulated ESP32 (spec `field.md` §7), model level.

Each test drives the device model through the minimal phone of :mod:`.blufi_phone` and checks
what ESP-IDF's example application does: the auth-mode threshold a password frame sets, the
sticky BSSID, status from cached state, pushed success / polled failure, format errors, scan
in SoftAP mode, reboot with credentials in flash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.emulators.blufi import PROFILES, BlufiDeviceConfig, WifiAp
from custom_components.ble_provisioning.protocol.blufi.const import (
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    OpMode,
    StaConnState,
    WifiReason,
)

from .blufi_phone import Phone, ctrl, data_type

HOME_BSSID = bytes.fromhex("a4cf12345678")
REPORT = data_type(DataSubtype.WIFI_REP)
ERROR = data_type(DataSubtype.ERROR_INFO)
LIST = data_type(DataSubtype.WIFI_LIST)


def networks() -> list[WifiAp]:
    return [
        WifiAp("HomeNet", -45, "password1", bssid="a4:cf:12:34:56:78", connect_delay=0),
        WifiAp("Office-5G", -67, "office-pass", connect_delay=0),
        WifiAp("Cafe", -81, connect_delay=0),  # open
    ]


def report(payload: bytes) -> tuple[int, int, dict[int, bytes]]:
    """Opmode, state and TLVs of a Wi-Fi report."""
    tlvs: dict[int, bytes] = {}
    pos = 3
    while pos < len(payload):
        kind, size = payload[pos], payload[pos + 1]
        tlvs[kind] = payload[pos + 2 : pos + 2 + size]
        pos += 2 + size
    return payload[0], payload[1], tlvs


@pytest.fixture
async def phone() -> AsyncIterator[Phone]:
    device = Phone(BlufiDeviceConfig(profile=PROFILES["v5.5"], networks=networks(), seed=1))
    device.connect()
    await device.negotiate(1)
    device.new()
    yield device
    await device.close()


async def send_sta(
    phone: Phone, ssid: bytes, password: bytes | None = None, bssid: bytes | None = None
) -> None:
    """What a client sends to provision: [BSSID,] SSID, [password,] CONN_TO_AP."""
    frames = []
    if bssid is not None:
        frames.append(
            phone.frame(data_type(DataSubtype.STA_BSSID), bssid, check=True, encrypt=True)
        )
    frames.append(phone.frame(data_type(DataSubtype.STA_SSID), ssid, check=True, encrypt=True))
    if password is not None:
        frames.append(
            phone.frame(data_type(DataSubtype.STA_PASSWD), password, check=True, encrypt=True)
        )
    frames.append(phone.frame(ctrl(ControlSubtype.CONN_TO_AP)))
    await phone.write(*frames)


async def settled(phone: Phone) -> None:
    """Wait until the example neither connects nor waits for a Wi-Fi event."""
    app = phone.model.app
    await phone.wait_for(lambda: not app.gl_sta_is_connecting and not app.driver.associated)


async def status(phone: Phone) -> tuple[int, int, dict[int, bytes]]:
    phone.new()
    await phone.write(phone.frame(ctrl(ControlSubtype.GET_WIFI_STATUS), check=True))
    ((kind, payload),) = phone.messages()
    assert kind == REPORT
    return report(payload)


async def pushed_report(phone: Phone) -> tuple[int, int, dict[int, bytes]]:
    """The next report the device pushes by itself."""
    await phone.wait_for(lambda: len(phone.sent) > phone._read)
    ((kind, payload),) = phone.messages()
    assert kind == REPORT
    return report(payload)


# ---------------------------------------------------------------- auth-mode threshold


async def test_ssid_only_joins_an_open_ap(phone: Phone) -> None:
    await send_sta(phone, b"Cafe")
    _mode, state, tlvs = await pushed_report(phone)  # success is pushed
    assert state == StaConnState.CONNECTED
    assert tlvs[DataSubtype.STA_SSID] == b"Cafe"


@pytest.mark.parametrize("password", [b"", b"anything1"])
async def test_any_password_frame_refuses_an_open_ap_with_211(
    phone: Phone, password: bytes
) -> None:
    """The example sets threshold.authmode = WPA2_PSK on every password frame, even empty."""
    await send_sta(phone, b"Cafe", password)
    await settled(phone)
    assert phone.new() == []  # a failure is never pushed
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.FAIL
    assert tlvs[DataSubtype.STA_CONN_END_REASON] == bytes(
        (WifiReason.NO_AP_FOUND_IN_AUTHMODE_THRESHOLD,)
    )
    assert phone.model.app.driver.attempts == 3  # first try + CONFIG_..._MAXIMUM_RETRY (2)


async def test_threshold_stays_until_reboot(phone: Phone) -> None:
    """After one password frame, even an SSID-only provisioning cannot join an open AP."""
    await send_sta(phone, b"HomeNet", b"password1")
    assert (await pushed_report(phone))[1] == StaConnState.CONNECTED
    await send_sta(phone, b"Cafe")
    await settled(phone)
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.FAIL
    assert tlvs[DataSubtype.STA_CONN_END_REASON] == bytes((211,))
    await phone.model.reboot()
    phone.connect()
    await phone.negotiate(1)
    phone.new()
    await send_sta(phone, b"Cafe")
    assert (await pushed_report(phone))[1] == StaConnState.CONNECTED


# ---------------------------------------------------------------- sticky BSSID


def pinned_bssid(phone: Phone) -> bytes | None:
    return phone.model.sta_bssid


async def test_bssid_sticks_until_reboot(phone: Phone) -> None:
    await send_sta(phone, b"HomeNet", b"password1", bssid=HOME_BSSID)
    _mode, state, tlvs = await pushed_report(phone)
    assert state == StaConnState.CONNECTED
    assert tlvs[DataSubtype.STA_BSSID] == HOME_BSSID
    # A later provisioning without BSSID still targets HomeNet's BSSID: no AP has both.
    await send_sta(phone, b"Office-5G", b"office-pass")
    await settled(phone)
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.FAIL
    assert tlvs[DataSubtype.STA_CONN_END_REASON] == bytes((WifiReason.NO_AP_FOUND,))
    assert pinned_bssid(phone) == HOME_BSSID
    await phone.model.reboot()
    assert pinned_bssid(phone) is None
    phone.connect()
    await phone.negotiate(1)
    phone.new()
    await send_sta(phone, b"Office-5G", b"office-pass")
    _mode, state, tlvs = await pushed_report(phone)
    assert (state, tlvs[DataSubtype.STA_SSID]) == (StaConnState.CONNECTED, b"Office-5G")


# ---------------------------------------------------------------- cached status


async def test_status_right_after_a_new_connect_reports_the_old_network() -> None:
    """gl_sta_connected / gl_sta_ssid stay set until the old link's disconnect event."""
    config = BlufiDeviceConfig(profile=PROFILES["v5.5"], networks=networks(), leave_delay=30)
    phone = Phone(config)
    try:
        phone.connect()
        await phone.negotiate(1)
        phone.new()
        await send_sta(phone, b"HomeNet", b"password1")
        assert (await pushed_report(phone))[1] == StaConnState.CONNECTED
        await send_sta(phone, b"Office-5G", b"office-pass")
        _mode, state, tlvs = await status(phone)
        assert state == StaConnState.CONNECTED
        assert tlvs[DataSubtype.STA_SSID] == b"HomeNet"
        assert tlvs[DataSubtype.STA_BSSID] == HOME_BSSID
        associated = phone.model.app.driver.associated
        assert associated is None or associated[1].ssid_raw == b"Office-5G"  # HomeNet is left
    finally:
        await phone.close()


async def test_status_after_the_disconnect_event_is_connecting(phone: Phone) -> None:
    await send_sta(phone, b"HomeNet", b"password1")
    assert (await pushed_report(phone))[1] == StaConnState.CONNECTED
    phone.model.config.networks[1].connect_delay = 30
    await send_sta(phone, b"Office-5G", b"office-pass")
    await phone.wait_for(lambda: not phone.model.app.gl_sta_connected)
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.CONNECTING
    assert tlvs == {DataSubtype.STA_MAX_CONN_RETRY: b"\x02"}


# ---------------------------------------------------------------- outcomes


async def test_success_is_pushed_failure_only_when_asked(phone: Phone) -> None:
    await send_sta(phone, b"HomeNet", b"wrong-password")
    await settled(phone)
    assert phone.new() == []
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.FAIL
    assert tlvs[DataSubtype.STA_CONN_END_REASON] == bytes((WifiReason.FOURWAY_HANDSHAKE_TIMEOUT,))
    assert tlvs[DataSubtype.STA_CONN_RSSI] == (-45).to_bytes(1, "big", signed=True)
    await send_sta(phone, b"HomeNet", b"password1")
    _mode, state, tlvs = await pushed_report(phone)
    assert (state, tlvs[DataSubtype.STA_SSID]) == (StaConnState.CONNECTED, b"HomeNet")
    assert phone.model.unsolicited_reports == 1


async def test_deliberate_disconnect_reports_no_end_reason(phone: Phone) -> None:
    await send_sta(phone, b"HomeNet", b"password1")
    await pushed_report(phone)
    await phone.write(phone.frame(ctrl(ControlSubtype.DISCONN_FROM_AP), check=True))
    await phone.wait_for(lambda: not phone.model.sta_connected)
    _mode, state, tlvs = await status(phone)
    assert state == StaConnState.FAIL
    assert tlvs == {DataSubtype.STA_MAX_CONN_RETRY: b"\x02"}


# ---------------------------------------------------------------- format errors


@pytest.mark.parametrize(
    ("subtype", "good", "bad"),
    [
        (DataSubtype.STA_SSID, b"s" * 31, b"s" * 32),
        (DataSubtype.STA_PASSWD, b"p" * 63, b"a1" * 32),  # 64 hex digits
        (DataSubtype.SOFTAP_SSID, b"s" * 31, b"s" * 32),
        (DataSubtype.SOFTAP_PASSWD, b"p" * 63, b"p" * 64),
    ],
)
async def test_format_errors(phone: Phone, subtype: int, good: bytes, bad: bytes) -> None:
    await phone.write(phone.frame(data_type(subtype), good, check=True, encrypt=True))
    assert phone.new() == []
    await phone.write(phone.frame(data_type(subtype), bad, check=True, encrypt=True))
    assert phone.messages() == [(ERROR, bytes((ErrorCode.DATA_FORMAT_ERROR,)))]
    name = DataSubtype(subtype).name.lower()
    assert phone.model.fields[name] == [good]  # the refused value is not stored
    if subtype == DataSubtype.STA_PASSWD:
        assert phone.model.sta_password == good


async def test_out_of_range_softap_numbers_are_ignored(phone: Phone) -> None:
    for subtype, value in (
        (DataSubtype.SOFTAP_MAX_CONN_NUM, 5),
        (DataSubtype.SOFTAP_CHANNEL, 14),
        (DataSubtype.SOFTAP_AUTH_MODE, 17),
    ):
        await phone.write(phone.frame(data_type(subtype), bytes((value,)), check=True))
    assert phone.new() == []
    assert not {"softap_max_conn_num", "softap_channel", "softap_auth_mode"} & set(
        phone.model.fields
    )


# ---------------------------------------------------------------- scan, opmode, reboot


async def test_scan(phone: Phone) -> None:
    phone.model.config.networks.append(WifiAp("Hidden", -30, hidden=True))
    phone.model.config.networks.append(WifiAp("Far", -90, visible=False))
    await phone.write(phone.frame(ctrl(ControlSubtype.GET_WIFI_LIST), check=True))
    ((kind, payload),) = phone.messages()
    assert kind == LIST
    assert payload == (
        b"\x08\xd3HomeNet" + b"\x0a\xbdOffice-5G" + b"\x05\xafCafe"
    )  # [len+1][rssi][ssid], hidden and out-of-range APs left out


@pytest.mark.parametrize(("mode", "fails"), [(OpMode.SOFTAP, True), (OpMode.SOFTAP_STA, False)])
async def test_scan_needs_a_station_interface(phone: Phone, mode: OpMode, fails: bool) -> None:
    await phone.write(phone.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), bytes((mode,)), check=True))
    phone.new()  # the SoftAP start report
    await phone.write(phone.frame(ctrl(ControlSubtype.GET_WIFI_LIST), check=True))
    kinds = [kind for kind, _payload in phone.messages()]
    assert kinds == ([ERROR] if fails else [LIST])
    if fails:
        assert phone.model.errors_sent == [ErrorCode.WIFI_SCAN_FAIL]


async def test_empty_scan_sends_nothing(phone: Phone) -> None:
    phone.model.config.networks.clear()
    await phone.write(phone.frame(ctrl(ControlSubtype.GET_WIFI_LIST), check=True))
    assert phone.new() == []


async def test_softap_start_is_pushed(phone: Phone) -> None:
    await phone.write(phone.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), b"\x02", check=True))
    ((kind, payload),) = phone.messages()
    assert kind == REPORT
    mode, state, tlvs = report(payload)
    assert (mode, state) == (OpMode.SOFTAP, StaConnState.FAIL)
    assert tlvs[DataSubtype.STA_CONN_END_REASON] == b"\xff"  # nothing recorded yet
    assert phone.model.unsolicited_reports == 1


async def test_invalid_opmode_aborts_the_firmware(phone: Phone) -> None:
    await phone.write(phone.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), b"\x04", check=True))
    assert phone.drops == 1
    assert phone.model.reboots == 1
    assert not phone.model.ble_connected


async def test_reboot_keeps_the_credentials_in_flash(phone: Phone) -> None:
    phone.model.on_mtu(517)
    await send_sta(phone, b"HomeNet", b"password1", bssid=HOME_BSSID)
    await pushed_report(phone)
    await phone.model.reboot()
    model = phone.model
    assert model.frag_size == 12  # back to the default until an MTU exchange
    assert model.sta_ssid == b""  # the example's copy is gone ...
    await phone.wait_for(lambda: model.app.gl_sta_got_ip)  # ... the driver rejoins from flash
    assert model.app.gl_sta_ssid == b"HomeNet"
    phone.connect()
    _mode, state, tlvs = await status(phone)
    assert (state, tlvs[DataSubtype.STA_SSID]) == (StaConnState.CONNECTED, b"HomeNet")

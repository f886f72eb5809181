"""AsyncBlufiClient <-> ESP32 emulator over the real bench radio (Bumble + bleak), V1 and V2."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import pytest

from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults, WifiAp
from custom_components.ble_provisioning.protocol.blufi import (
    AsyncBlufiClient,
    BlufiChecksumError,
    BlufiDeviceError,
    BlufiDeviceFormatError,
    BlufiDeviceSecurityError,
    BlufiDeviceSequenceError,
    BlufiSecurity,
    BlufiSecurityError,
    BlufiSequenceError,
    BlufiTimeoutError,
    BlufiVersion,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameControl,
    OpMode,
    ProvisionOutcome,
    SoftApAuthMode,
    SoftApConfig,
    StaConnState,
    WifiReason,
    WifiStatus,
)
from custom_components.ble_provisioning.protocol.errors import (
    InvalidInputError,
    ProvisioningConnectionError,
    ProvisioningError,
)

from .conftest import Bench, BenchFactory, default_networks

PROFILES = ["v5.5", "v6.0"]
VERSIONS = {"v5.5": BlufiVersion(1, 3), "v6.0": BlufiVersion(1, 4)}
SECURITY = {"v5.5": BlufiSecurity.V1, "v6.0": BlufiSecurity.V2}


def _check_wire(bench: Bench, mtu: int) -> None:
    """Every write and notification is one whole frame within MTU-3 and 255 data bytes."""
    model = bench.device.model
    assert model.writes
    for raw in (*model.writes, *model.notifications):
        assert len(raw) <= mtu - 3, (len(raw), mtu)
        data_len = raw[3]
        assert data_len <= 255
        assert len(raw) == 4 + data_len + (2 if raw[1] & FrameControl.CHECK else 0)


def _connected(client: AsyncBlufiClient) -> bool:
    """Read the link state without mypy narrowing it from an earlier assert."""
    return client.is_connected


def _config(**kwargs: object) -> BlufiDeviceConfig:
    config = BlufiDeviceConfig(networks=default_networks(), seed=7)
    for key, value in kwargs.items():
        setattr(config, key, value)
    return config


# ---------------------------------------------------------------- provisioning outcomes


@pytest.mark.parametrize("profile", PROFILES)
async def test_provision_connected(blufi_bench: BenchFactory, profile: str) -> None:
    async with blufi_bench(profile=profile) as bench:
        client = bench.client()
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        assert result.success
        assert result.ssid == "HomeNet"
        assert result.bssid == "a4:cf:12:34:56:78"
        assert not client.is_connected  # provision opened the link, so it closed it
        model = bench.device.model
        assert model.negotiations == 1
        assert model.session_key is not None
        assert len(model.session_key) == (16 if profile == "v5.5" else 32)
        assert model.fields["sta_ssid"] == [b"HomeNet"]
        assert model.fields["sta_passwd"] == [b"password1"]
        assert model.fields["opmode"] == [OpMode.STA]
        assert model.unsolicited_reports == 1
        # credentials travelled encrypted
        ssid_frames = [w for w in model.writes if w[0] == (DataSubtype.STA_PASSWD << 2 | 1)]
        assert ssid_frames
        assert all(w[1] & FrameControl.ENC and b"password1" not in w for w in ssid_frames)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    ("ap", "password", "outcome", "reason"),
    [
        (WifiAp("HomeNet", -45, "password1"), "wrong-password", "wrong_password", 15),
        (
            WifiAp("Elsewhere", -60, "password1", visible=False),
            "password1",
            "network_not_found",
            201,
        ),
        (
            WifiAp("HomeNet", -45, "password1", outcome=WifiReason.AUTH_FAIL),
            "password1",
            "wrong_password",
            202,
        ),
        (
            WifiAp("HomeNet", -45, "password1", outcome=WifiReason.ASSOC_FAIL),
            "password1",
            "connection_failed",
            203,
        ),
        (
            WifiAp("HomeNet", -45, "password1", outcome=WifiReason.NO_AP_FOUND_IN_RSSI_THRESHOLD),
            "password1",
            "network_not_found",
            212,
        ),
    ],
)
async def test_provision_failures_are_polled(
    blufi_bench: BenchFactory,
    profile: str,
    ap: WifiAp,
    password: str,
    outcome: str,
    reason: int,
) -> None:
    config = BlufiDeviceConfig(networks=[ap], seed=3, dh_private_bits=256)
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client()
        ssid = ap.ssid if isinstance(ap.ssid, str) else ap.ssid.decode()
        result = await client.provision(ssid, password, poll_interval=0.02, timeout=5)
        assert result.outcome == ProvisionOutcome(outcome)
        assert result.end_reason == reason
        assert isinstance(result.end_reason, WifiReason)
        assert not result.success
        assert bench.device.model.unsolicited_reports == 0  # failure is never pushed
        polls = [m for m in bench.device.model.messages if m[1] == ControlSubtype.GET_WIFI_STATUS]
        assert polls
        assert not client.is_connected


@pytest.mark.parametrize("profile", PROFILES)
async def test_provision_timeout_result(blufi_bench: BenchFactory, profile: str) -> None:
    config = BlufiDeviceConfig(
        networks=[WifiAp("Slow", -50, "password1", connect_delay=30)], dh_private_bits=256
    )
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client()
        # The device is still connecting when the 1 s provisioning timeout ends (20 polls).
        result = await client.provision("Slow", "password1", timeout=1.0, poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.TIMEOUT
        assert result.status is not None
        assert result.status.sta_state == StaConnState.CONNECTING
        assert result.status.max_reconnects == 2
        assert not client.is_connected


@pytest.mark.parametrize("password", [None, ""])
async def test_provision_open_network_and_bssid(
    blufi_bench: BenchFactory, password: str | None
) -> None:
    """Issue 10 item 1: no password frame for an open network (on main an empty one was
    sent, which makes ESP-IDF's example refuse the open AP with reason 211)."""
    async with blufi_bench(profile="v5.5") as bench:
        result = await bench.client().provision(
            "Cafe Free WiFi", password, bssid="a4:cf:12:00:00:02", poll_interval=0.05
        )
        assert result.outcome is ProvisionOutcome.CONNECTED
        model = bench.device.model
        assert "sta_passwd" not in model.fields
        assert not [w for w in model.writes if w[0] == DataSubtype.STA_PASSWD << 2 | 1]
        assert model.fields["sta_bssid"] == [bytes.fromhex("a4cf12000002")]


async def test_provision_softap_mode(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v6.0", config=_config(dh_private_bits=256)) as bench:
        softap = SoftApConfig("ESP_SOFTAP", "softap-pass", 6, 3, SoftApAuthMode.WPA2_PSK)
        result = await bench.client().provision(None, mode=OpMode.SOFTAP, softap=softap)
        assert result.outcome is ProvisionOutcome.SOFTAP_STARTED
        assert result.status is not None
        assert result.status.opmode == OpMode.SOFTAP
        fields = bench.device.model.fields
        assert fields["softap_ssid"] == [b"ESP_SOFTAP"]
        assert fields["softap_passwd"] == [b"softap-pass"]
        assert fields["softap_channel"] == [6]
        assert fields["softap_max_conn_num"] == [3]
        assert fields["softap_auth_mode"] == [3]


# ---------------------------------------------------------------- every message type


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mtu", [23, 185, 517])
async def test_every_message_type(blufi_bench: BenchFactory, profile: str, mtu: int) -> None:
    replies = {b"ping": b"pong" * 100}
    config = _config(custom_reply=lambda data: replies.get(data, data))
    async with blufi_bench(profile=profile, mtu=mtu, config=config) as bench:
        client = bench.client()
        reports: list[WifiStatus] = []
        custom: list[bytes] = []
        pushed = asyncio.Event()

        def on_report(status: WifiStatus) -> None:
            reports.append(status)
            pushed.set()

        unregister = client.register_status_callback(on_report)
        client.register_custom_data_callback(custom.append)
        async with client:
            assert client.mtu == mtu
            assert await client.get_version() == VERSIONS[profile]
            assert await client.negotiate_security() is SECURITY[profile]
            assert client.security is SECURITY[profile]
            status = await client.get_wifi_status()
            assert status.sta_state == StaConnState.FAIL
            assert status.end_reason == WifiReason.NONE
            assert status.rssi == -128
            networks = await client.scan_wifi(timeout=60)
            assert [(n.ssid, n.rssi) for n in networks] == [
                ("HomeNet", -45),
                ("Office-5G", -67),
                ("Cafe Free WiFi", -81),
            ]
            await client.set_opmode(OpMode.STA)
            assert not [w for w in bench.device.model.writes if w[1] & FrameControl.REQ_ACK]
            await client.set_opmode(OpMode.STA, ack=True)  # asks for the ACK and waits for it
            ack_frames = [w for w in bench.device.model.writes if w[1] & FrameControl.REQ_ACK]
            assert len(ack_frames) == 1
            await client.set_sta_config("HomeNet", "password1", bssid="a4:cf:12:34:56:78")
            await client.connect_ap()
            async with asyncio.timeout(60):
                while not reports or reports[-1].sta_state != StaConnState.CONNECTED:
                    await pushed.wait()
                    pushed.clear()
            assert reports[-1].sta_state == StaConnState.CONNECTED  # unsolicited push
            assert reports[-1].bssid == "a4:cf:12:34:56:78"
            unregister()
            await client.disconnect_ap()
            status = await client.get_wifi_status()
            assert status.sta_state == StaConnState.FAIL
            # ESP-IDF's example records no end reason for a deliberate disconnect: the report
            # keeps the max-retry field of the last connect (blufi_example_main.c).
            assert status.end_reason is None
            assert status.max_reconnects == 2
            await client.set_softap_config(
                SoftApConfig("ESP_SOFTAP", "softap-pass", 6, 3, SoftApAuthMode.WPA2_PSK)
            )
            cert = b"-----BEGIN CERTIFICATE-----\n" + bytes(range(256)) * 6
            await client.send_enterprise(
                username="user@example.com",
                ca_cert=cert,
                client_cert=cert[:300],
                server_cert=cert[:100],
                client_private_key=b"client-key" * 30,
                server_private_key=b"server-key",
            )
            payload = bytes(range(256)) * 12 + b"tail"
            await client.send_custom_data(payload)
            assert await client.wait_custom_data(60) == payload  # echo, fragmented both ways
            await client.send_custom_data(b"ping")
            assert await client.wait_custom_data(60) == b"pong" * 100
            assert custom == [payload, b"pong" * 100]
            if mtu == 517:
                big = bytes(i * 7 & 0xFF for i in range(65535))
                await client.send_custom_data(big)
                assert await client.wait_custom_data(60) == big
            with pytest.raises(InvalidInputError):
                await client.send_custom_data(bytes(65536))
            assert client.is_connected  # invalid input sends nothing and keeps the link
            await client.disconnect_ble()
            assert not _connected(client)
        model = bench.device.model
        assert model.ble_disconnect_requests == 1
        assert model.fields["sta_bssid"] == [bytes.fromhex("a4cf12345678")]
        assert model.fields["opmode"] == [OpMode.STA, OpMode.STA]
        assert model.fields["softap_ssid"] == [b"ESP_SOFTAP"]
        assert model.fields["softap_passwd"] == [b"softap-pass"]
        assert model.fields["softap_channel"] == [6]
        assert model.fields["softap_max_conn_num"] == [3]
        assert model.fields["softap_auth_mode"] == [SoftApAuthMode.WPA2_PSK]
        assert model.fields["username"] == [b"user@example.com"]
        assert model.fields["ca_cert"] == [cert]
        assert model.fields["client_cert"] == [cert[:300]]
        assert model.fields["server_cert"] == [cert[:100]]
        assert model.fields["client_priv_key"] == [b"client-key" * 30]
        assert model.fields["server_priv_key"] == [b"server-key"]
        assert model.disconnect_ap_requests == 1
        assert model.errors_sent == []
        _check_wire(bench, mtu)
        fragmented = [w for w in model.writes if w[1] & FrameControl.FRAG]
        assert fragmented  # the DH blob and custom data were fragmented at every MTU
        if mtu == 23:
            assert max(len(w) for w in model.writes) == 20


async def test_empty_scan_returns_empty_list(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5", config=BlufiDeviceConfig(networks=[])) as bench:
        client = bench.client()
        async with client:
            assert await client.scan_wifi(timeout=0.3) == []  # the device sends no list
            assert client.is_connected
            assert await client.get_version() == VERSIONS["v5.5"]


async def test_plaintext_session_without_negotiation(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v5.5") as bench:
        client = bench.client()
        with pytest.raises(InvalidInputError):
            await client.provision("x" * 33, "password1")
        assert bench.device.model.writes == []  # validated before connecting
        result = await client.provision(
            "HomeNet", "password1", require_security=True, poll_interval=0.05
        )
        assert result.outcome is ProvisionOutcome.CONNECTED
        async with client:
            await client.set_sta_config("HomeNet", "password1")
        plain = bench.device.model.writes[-1]
        assert not plain[1] & FrameControl.ENC
        assert plain.endswith(b"password1")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ssid": ""}, "ssid"),
        ({"ssid": "a" * 32}, "ssid"),  # ESP-IDF's example refuses 32 bytes
        ({"password": "short"}, "password"),
        ({"password": "0123456789abcdef" * 4}, "password"),  # no raw PSK on BluFi
        ({"password": "x" * 65}, "password"),
        ({"bssid": "zz:zz"}, "bssid"),
    ],
)
async def test_input_validation(
    blufi_bench: BenchFactory, kwargs: dict[str, Any], match: str
) -> None:
    async with blufi_bench(profile="v5.5") as bench:
        args = {"ssid": "HomeNet", "password": "password1", "bssid": None} | kwargs
        with pytest.raises(InvalidInputError, match=match):
            await bench.client().provision(**args)
        for bad in (
            SoftApConfig(channel=14),
            SoftApConfig(max_connections=0),
            SoftApConfig(max_connections=5),
            SoftApConfig(auth_mode=99),  # type: ignore[arg-type]
            SoftApConfig(ssid="s" * 32),
        ):
            with pytest.raises(InvalidInputError):
                await bench.client().provision(None, mode=OpMode.SOFTAP, softap=bad)
        assert bench.device.model.writes == []


# ---------------------------------------------------------------- faults


async def _fault_run(
    bench: Bench, timeout: float = 10.0, ack_timeout: float = 10.0
) -> tuple[BaseException, AsyncBlufiClient]:
    """Provision until the fault ends it; return the error.

    The timeouts are long unless a test needs one to expire: a fault that should end the run
    at once (an error report, a bad CRC, a dropped link) would otherwise show up as a timeout,
    which the error-type checks then catch - without measuring any time.
    """
    client = bench.client(timeout=timeout, ack_timeout=ack_timeout)
    with pytest.raises(ProvisioningError) as info:
        await client.provision("HomeNet", "password1", poll_interval=0.05, timeout=30)
    assert not client.is_connected
    async with asyncio.timeout(10):  # the link is really down on the device side too
        while bench.device.is_connected:  # noqa: ASYNC110 - the device side has no event
            await asyncio.sleep(0.01)
    return info.value, client


@pytest.mark.parametrize("profile", PROFILES)
async def test_fault_drop_version_reply(blufi_bench: BenchFactory, profile: str) -> None:
    config = _config(faults=BlufiFaults(drop_notifications={0}))
    async with blufi_bench(profile=profile, config=config) as bench:
        err, _ = await _fault_run(bench, timeout=1.0)
        assert isinstance(err, BlufiTimeoutError)
        assert isinstance(err, TimeoutError)


@pytest.mark.parametrize("profile", PROFILES)
async def test_fault_drop_ack(blufi_bench: BenchFactory, profile: str) -> None:
    config = _config(dh_private_bits=256)
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client(timeout=2.0, ack_timeout=0.3)
        await client.connect()
        await client.negotiate_security()
        # the next notification is the ACK of SET_OPMODE: lose it
        bench.device.model.config.faults.drop_notifications = {
            len(bench.device.model.notifications)
        }
        with pytest.raises(BlufiTimeoutError, match="ACK"):
            await client.set_opmode(OpMode.STA, ack=True)
        assert not client.is_connected


@pytest.mark.parametrize("profile", PROFILES)
async def test_fault_corrupt_crc(blufi_bench: BenchFactory, profile: str) -> None:
    # notifications: version, device key (1 or 2 frames), then the pushed status report,
    # which is encrypted and checksummed: corrupt its CRC.
    report = 2 if profile == "v5.5" else 3
    config = _config(faults=BlufiFaults(corrupt_crc_notifications={report}))
    async with blufi_bench(profile=profile, config=config) as bench:
        err, _ = await _fault_run(bench)
        assert isinstance(err, BlufiChecksumError), err  # raised on arrival, not a timeout
        assert bench.device.model.notifications[report][0] == DataSubtype.WIFI_REP << 2 | 1


@pytest.mark.parametrize("profile", PROFILES)
async def test_fault_corrupt_crc_of_reply(blufi_bench: BenchFactory, profile: str) -> None:
    config = _config(dh_private_bits=256)
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client(timeout=10.0)
        await client.connect()
        await client.negotiate_security()
        sent = len(bench.device.model.notifications)
        bench.device.model.config.faults.corrupt_crc_notifications = {sent}
        with pytest.raises(BlufiChecksumError):
            await client.get_version()
        assert not client.is_connected


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("step", [0, 2, 5, 7])
async def test_fault_disconnect_at_step(blufi_bench: BenchFactory, profile: str, step: int) -> None:
    config = _config(faults=BlufiFaults(disconnect_at_write=step), dh_private_bits=256)
    async with blufi_bench(profile=profile, config=config) as bench:
        err, _ = await _fault_run(bench, timeout=30.0, ack_timeout=30.0)
        assert isinstance(err, ProvisioningConnectionError), err
        assert not isinstance(err, TimeoutError)  # the drop ended it, not a timeout


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (ErrorCode.SEQUENCE_ERROR, BlufiDeviceSequenceError),
        (ErrorCode.CHECKSUM_ERROR, BlufiDeviceError),
        (ErrorCode.DH_PARAM_ERROR, BlufiDeviceSecurityError),
        (ErrorCode.DATA_FORMAT_ERROR, BlufiDeviceFormatError),
        (ErrorCode.MSG_STATE_ERROR, BlufiDeviceError),
        (ErrorCode.CALC_SHA_256_ERROR, BlufiDeviceSecurityError),
    ],
)
async def test_fault_error_code(
    blufi_bench: BenchFactory, profile: str, code: ErrorCode, error_type: type[Exception]
) -> None:
    # write 0 is GET_VERSION: the device answers it with the error report instead
    config = _config(faults=BlufiFaults(error_at_write={0: code}))
    async with blufi_bench(profile=profile, config=config) as bench:
        err, _ = await _fault_run(bench)
        assert isinstance(err, error_type), err
        assert isinstance(err, BlufiDeviceError)
        assert err.code == code


@pytest.mark.parametrize("profile", PROFILES)
async def test_fault_error_during_negotiation_refuses_credentials(
    blufi_bench: BenchFactory, profile: str
) -> None:
    config = _config(faults=BlufiFaults(error_at_write={1: ErrorCode.DH_PARAM_ERROR}))
    async with blufi_bench(profile=profile, config=config) as bench:
        err, _ = await _fault_run(bench)
        assert isinstance(err, BlufiSecurityError)
        # DH_PARAM_ERROR (V1: then the legacy group is tried on a link the fault broke)
        assert isinstance(err.__cause__, BlufiDeviceError)
        assert "sta_ssid" not in bench.device.model.fields
        assert "sta_passwd" not in bench.device.model.fields


async def test_v1_client_against_v2_device_gets_dh_param_error(blufi_bench: BenchFactory) -> None:
    async with blufi_bench(profile="v6.0") as bench:
        client = bench.client(timeout=10.0)
        await client.connect()
        with pytest.raises(BlufiDeviceSecurityError) as info:
            await client.negotiate_security(BlufiSecurity.V1)  # A is 128 bytes, not 384
        assert info.value.code == ErrorCode.DH_PARAM_ERROR
        assert not client.is_connected


async def test_fault_sequence_gap_is_detected(blufi_bench: BenchFactory) -> None:
    # MTU 23: the Wi-Fi list comes in fragments; losing the first one leaves a seq gap
    async with blufi_bench(profile="v5.5", mtu=23) as bench:
        client = bench.client(timeout=10.0)
        await client.connect()
        await client.get_version()  # notification 0
        await client.negotiate_security()  # notifications 1-11 (128-byte key at MTU 23)
        sent = len(bench.device.model.notifications)
        bench.device.model.config.faults.drop_notifications = {sent}
        with pytest.raises(BlufiSequenceError):  # the next fragment shows the gap
            await client.scan_wifi(timeout=10.0)
        assert not client.is_connected


async def test_device_silence_times_out_on_every_wait(blufi_bench: BenchFactory) -> None:
    config = _config(faults=BlufiFaults(ignore_writes_from=0))
    async with blufi_bench(profile="v5.5", config=config) as bench:
        client = bench.client(timeout=0.5, ack_timeout=0.5)
        for call in (
            lambda: client.get_version(),
            lambda: client.get_wifi_status(),
            lambda: client.negotiate_security(BlufiSecurity.V1),
            lambda: client.set_opmode(OpMode.STA, ack=True),
            lambda: client.wait_custom_data(0.3),
        ):
            await client.connect()
            # The client's own bound ends each wait (BlufiTimeoutError); the guard only turns
            # an unbounded wait into a failure instead of a hang (its TimeoutError is not one).
            async with asyncio.timeout(30):
                with pytest.raises(BlufiTimeoutError):
                    await call()
            assert not client.is_connected


# ---------------------------------------------------------------- leading zeros, logging


def _leading_zero_client_key(device_private: int, p: int, padded_bytes: int) -> int:
    device_public = pow(2, device_private, p)
    a = 3
    while True:
        a += 1
        if pow(device_public, a, p).to_bytes(padded_bytes, "big")[0] == 0:
            return a


@pytest.mark.parametrize("profile", PROFILES)
async def test_leading_zero_secret_interop(blufi_bench: BenchFactory, profile: str) -> None:
    """A secret starting with 0x00: the V1 device strips it, the V2 device keeps it."""
    from custom_components.ble_provisioning.protocol.blufi import security

    b = 0x1234567 if profile == "v5.5" else 0x7654321
    session_cls = security.V1Session if profile == "v5.5" else security.V2Session
    group = session_cls.default_group
    a = _leading_zero_client_key(b, group.p, group.size)
    config = _config(dh_private_key=b)
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client(timeout=10.0)
        client.session_factory = lambda group: session_cls(a, group=group)
        async with client:
            assert await client.negotiate_security() is SECURITY[profile]
            assert await client.get_version() == VERSIONS[profile]  # encrypted + CRC: key ok
            assert await client.get_wifi_status()

        class WrongZeros(session_cls):  # type: ignore[misc,valid-type]
            def derive(self, peer_public: bytes, role: str = "phone") -> object:
                super().derive(peer_public, role)
                assert self.secret_padded is not None
                if profile == "v5.5":  # pad (as pyBlufi): wrong for V1
                    self.key = hashlib.md5(self.secret_padded).digest()
                    return security.V1Cipher(self.key)
                stripped = security.strip_leading_zeros(self.secret_padded)  # wrong for V2
                self.key = hashlib.sha256(stripped).digest()
                return security.V2Cipher(self.key, stripped, "phone")

        client.session_factory = lambda group: WrongZeros(a, group=group)
        await client.connect()
        await client.negotiate_security()
        with pytest.raises(BlufiChecksumError):
            await client.get_version()
        assert not client.is_connected


async def test_no_secret_in_logs(
    blufi_bench: BenchFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with blufi_bench(profile="v5.5") as bench:
        result = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert result.success
        client_lines = [r.getMessage() for r in caplog.records if "protocol" in r.name]
        assert any("STA_PASSWD" in line for line in client_lines)
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "password1" not in text
        assert "70617373776f726431" not in text  # hex of the password
        key = bench.device.model.session_key
        assert key is not None
        assert key.hex() not in text

"""The emulator's device side against the sessions recorded from ESP-IDF's own device code.

``tests/data/vectors``: ESP-IDF v5.5.5 (BluFi 1.3, V1) and v6.0.2 (BluFi 1.4, V2), the device's
randomness a seeded stream (``drbg``). Checked here, device side only:

* the device key pair from the recorded random stream, as Mbed TLS / PSA pick it;
* secret, key and counter blocks from the recorded client key;
* every recorded client write, through the emulator's receive path, decrypts and checks to the
  annotated plaintext (and the corrupted one fails its CRC);
* every recorded notification is what the emulator's send path encodes at that sequence
  number / stream position;
* a full replay: the recorded writes fed to a fresh emulated device, seeded with the recorded
  stream, give the recorded notifications byte for byte;
* the leading-zero cases: accepted and refused as recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import re
from typing import Any

import pytest

from bench.emulators.blufi import PROFILES, BlufiDeviceConfig, WifiAp, wire
from bench.emulators.blufi.ciphers import CfbFrameCipher, CtrStreamCipher
from bench.emulators.blufi.dh import EspRandom, byte_size, dhm_private, ffdh_private
from bench.emulators.blufi.security import v1_key, v2_keys
from custom_components.ble_provisioning.protocol.blufi.const import (
    DH_G,
    V1_DH_P,
    V2_DH_P,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
)

from .blufi_phone import VECTORS, Phone, ctrl, data_type, load_vector, param_blob

VARIANTS = ["v1", "v2"]
PRIME = {"v1": V1_DH_P, "v2": V2_DH_P}
SIZE = {"v1": 128, "v2": 384}
PROFILE = {"v1": "v5.5", "v2": "v6.0"}

_LINE = re.compile(
    r"^\s*[\d.]+ (?P<dir>[WN]) (?P<name>\S+)\s+fc=(?P<fc>[A-Z]*)\s+seq=(?P<seq>\d+)\s+"
    r"len=(?P<len>\d+)\s+(?P<crc>crc-ok|CRC-BAD)?\s*plain=(?P<plain>[0-9a-f]*)"
    r"(?:\.\.\.\((?P<full>\d+) B\))?\s*$"
)


@dataclass(frozen=True)
class Line:
    direction: str
    name: str
    seq: int
    length: int
    crc: str | None
    plain: bytes
    truncated: bool


def annotated(variant: str) -> list[Line]:
    lines = []
    for text in (VECTORS / f"blufi-{variant}-session.annotated.txt").read_text().splitlines():
        m = _LINE.match(text)
        if m:
            lines.append(
                Line(
                    m["dir"],
                    m["name"],
                    int(m["seq"]),
                    int(m["len"]),
                    m["crc"],
                    bytes.fromhex(m["plain"]),
                    m["full"] is not None,
                )
            )
    return lines


def session(variant: str) -> dict[str, Any]:
    return load_vector(f"blufi-{variant}-session.json")


def device_cipher(variant: str, data: dict[str, Any]) -> wire.FrameCipher:
    derived = data["derived"]
    key = bytes.fromhex(derived["key"])
    if variant == "v1":
        return CfbFrameCipher(key)
    return CtrStreamCipher(
        key,
        bytes.fromhex(derived["iv_device_to_phone"]),
        bytes.fromhex(derived["iv_phone_to_device"]),
    )


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize("variant", VARIANTS)
def test_device_key_pair_from_the_recorded_random_stream(variant: str) -> None:
    data = session(variant)
    rng = EspRandom(data["drbg"]["seed_utf8"])
    p = PRIME[variant]
    private = dhm_private(p, byte_size(p), rng) if variant == "v1" else ffdh_private(p, rng)
    public = pow(DH_G, private, p).to_bytes(SIZE[variant], "big")
    assert public.hex() == data["derived"]["device_public_key"]
    assert rng.bytes_used == data["drbg"]["bytes_used"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_secret_key_and_counter_blocks(variant: str) -> None:
    data = session(variant)
    derived = data["derived"]
    client_public = pow(DH_G, int(data["client"]["private_key_hex"], 16), PRIME[variant])
    assert client_public.to_bytes(SIZE[variant], "big").hex() == data["client"]["public_key_hex"]
    rng = EspRandom(data["drbg"]["seed_utf8"])
    p = PRIME[variant]
    private = dhm_private(p, byte_size(p), rng) if variant == "v1" else ffdh_private(p, rng)
    shared = pow(client_public, private, p)
    assert shared == int(derived["shared_secret_used_by_device"], 16)
    if variant == "v1":
        assert v1_key(shared).hex() == derived["key"]
        assert len(derived["shared_secret_used_by_device"]) // 2 == byte_size(shared)
    else:
        key, to_phone, to_device = v2_keys(shared)
        assert key.hex() == derived["key"]
        assert to_phone.hex() == derived["iv_device_to_phone"]
        assert to_device.hex() == derived["iv_phone_to_device"]
        assert len(derived["shared_secret_used_by_device"]) // 2 == 384  # padded


# ---------------------------------------------------------------- frame by frame


@pytest.mark.parametrize("variant", VARIANTS)
def test_client_writes_decrypt_and_check_to_the_annotated_plaintext(variant: str) -> None:
    data = session(variant)
    env = wire.BlufiEnv()
    env.on_connect()
    cipher = device_cipher(variant, data)
    writes = [bytes.fromhex(w["hex"]) for w in data["wire"] if w["dir"] == "W"]
    lines = [line for line in annotated(variant) if line.direction == "W"]
    assert len(writes) == len(lines) > 20
    bad_crc = 0
    for raw, line in zip(writes, lines, strict=True):
        frame, actions = wire.receive(env, raw, cipher)
        assert frame is not None, line
        assert frame.seq == line.seq
        assert len(frame.plaintext) == line.length
        if line.truncated:
            assert frame.plaintext.startswith(line.plain)
        else:
            assert frame.plaintext == line.plain
        expected_crc = {None: None, "crc-ok": True, "CRC-BAD": False}[line.crc]
        assert frame.crc_ok is expected_crc
        if line.crc == "CRC-BAD":
            bad_crc += 1
            assert actions == [wire.ReportError(ErrorCode.CHECKSUM_ERROR)]
        else:
            assert not any(isinstance(a, wire.ReportError) for a in actions)
    assert bad_crc == 1
    assert env.recv_seq == len(writes)  # every frame advanced the sequence, the bad one too


@pytest.mark.parametrize("variant", VARIANTS)
def test_notifications_encode_to_the_recorded_bytes(variant: str) -> None:
    data = session(variant)
    env = wire.BlufiEnv()
    env.on_connect()
    env.on_mtu(517)
    cipher = device_cipher(variant, data)
    device_key = bytes.fromhex(data["derived"]["device_public_key"])
    entries = list(zip(data["wire"], annotated(variant), strict=True))
    pending: list[tuple[bytes, Line]] = []
    checked = 0
    for entry, line in entries:
        raw = bytes.fromhex(entry["hex"])
        if entry["dir"] == "W":
            if line.name == "CTRL/SET_SEC_MODE":
                env.sec_mode = line.plain[0]
            continue
        pending.append((raw, line))
        if raw[1] & 0x10:  # FRAG: the message continues
            continue
        type_byte = raw[0]
        if type_byte == wire.TYPE_NEG:
            payload = device_key
        else:
            assert not any(lined.truncated for _raw, lined in pending)
            payload = b"".join(
                lined.plain[2:] if r[1] & 0x10 else lined.plain for r, lined in pending
            )
        frames, error = wire.encap(env, type_byte, payload, cipher)
        assert error is None
        assert frames == [r for r, _lined in pending]
        checked += len(frames)
        pending = []
    assert checked == sum(1 for e in data["wire"] if e["dir"] == "N")


# ---------------------------------------------------------------- full replay


def _replay_config(variant: str, data: dict[str, Any]) -> BlufiDeviceConfig:
    setup = data["device_setup"]
    summary = data["device_summary"]
    networks = [WifiAp(ssid, rssi) for ssid, rssi in setup["scan_results"]]
    # "auto_wifi_success": the provisioned network joins; it is not in the scan results.
    networks.append(
        WifiAp(
            summary["sta_ssid"][0],
            -50,
            summary["sta_passwd"][0],
            bssid=setup["bssid"],
            connect_delay=0,
            ip_delay=0,
            hidden=True,
        )
    )
    return BlufiDeviceConfig(
        profile=PROFILES[PROFILE[variant]],
        networks=networks,
        seed=data["drbg"]["seed_utf8"],
        custom_reply=lambda _data: None,  # the stock example only logs custom data
    )


@pytest.mark.parametrize("variant", VARIANTS)
async def test_full_session_replay(variant: str) -> None:
    """Recorded writes in, recorded notifications out, byte for byte."""
    data = session(variant)
    phone = Phone(_replay_config(variant, data))
    model = phone.model
    expected: list[bytes] = []
    try:
        for step in data["steps"]:
            op = step["op"]
            if op == "connect":
                phone.connect(mtu=None)
            elif op == "mtu":
                model.on_mtu(step["mtu"])
            elif op == "write":
                await phone.write(bytes.fromhex(step["data"]))
            elif op == "device" and step["call"] == "send_custom_data":
                await model.send_custom_data(bytes.fromhex(step["data"]))
            elif op == "device":
                assert step["call"] == "wifi_connected"  # the emulated Wi-Fi joins by itself
            elif op == "disconnect":
                phone.disconnect()
            expected += [bytes.fromhex(h) for h in step["notify"]]
            await phone.wait_for(lambda: len(phone.sent) >= len(expected))  # noqa: B023
            assert phone.sent[: len(expected)] == expected, (op, step.get("data", "")[:16])
        assert phone.sent == expected
        summary = data["device_summary"]
        assert model.fields["opmode"] == summary["opmodes"]
        assert model.fields["sta_ssid"] == [s.encode() for s in summary["sta_ssid"]]
        assert model.fields["sta_passwd"] == [s.encode() for s in summary["sta_passwd"]]
        for name in ("softap_ssid", "softap_passwd"):
            assert model.fields[name] == [s.encode() for s in summary[name]]
        for name in ("softap_channel", "softap_max_conn_num", "softap_auth_mode"):
            assert model.fields[name] == summary[name]
        assert model.connect_requests == summary["connect_to_ap_requests"]
        custom = [s.encode() for s in summary["custom_data_received"]]
        assert model.fields["custom_data"] == custom
        assert [ErrorCode(c).name for c in model.errors_sent] == summary["errors_sent"]
        assert model.ble_disconnect_requests == summary["ble_disconnect_requests"]
        assert phone.drops == 1  # DISCONNECT_BLE: the device dropped the link
        assert model.rng.bytes_used == data["drbg"]["bytes_used"]
    finally:
        await phone.close()


# ---------------------------------------------------------------- leading zeros


def _strip(secret: bytes) -> bytes:
    return secret.lstrip(b"\x00")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("behaviour", ["client_strips_zeros", "client_pads_secret"])
async def test_leading_zero_secret_accepted_and_refused_as_recorded(
    variant: str, behaviour: str
) -> None:
    case = load_vector("blufi-leading-zero.json")[variant]
    recorded = case[behaviour]
    p, size = PRIME[variant], SIZE[variant]
    client_private = int(case["client_private_key"], 16)
    config = BlufiDeviceConfig(
        profile=PROFILES[PROFILE[variant]], seed=case["device_seed"], custom_reply=lambda _d: None
    )
    phone = Phone(config)
    try:
        phone.connect()
        public = pow(DH_G, client_private, p).to_bytes(size, "big")
        await phone.send_params(param_blob(p, size, public))
        (reply,) = phone.messages()
        assert reply[1].hex() == case["device_public_key"]  # from the recorded device seed
        padded = pow(int.from_bytes(reply[1], "big"), client_private, p).to_bytes(size, "big")
        assert padded[:4].hex() == recorded["secret_first_bytes_padded"]
        assert padded[0] == 0
        secret = _strip(padded) if behaviour == "client_strips_zeros" else padded
        if variant == "v1":
            phone.tx_cipher = phone.rx_cipher = CfbFrameCipher(hashlib.md5(secret).digest())
        else:
            phone.tx_cipher = phone.rx_cipher = CtrStreamCipher(
                hashlib.sha256(secret).digest(),
                hashlib.sha256(b"blufi_dec" + secret).digest()[:16],
                hashlib.sha256(b"blufi_enc" + secret).digest()[:16],
            )
        await phone.write(phone.frame(ctrl(ControlSubtype.SET_SEC_MODE), b"\x03", check=True))
        await phone.write(phone.frame(ctrl(ControlSubtype.GET_VERSION), check=True))
        (version,) = phone.new()
        frame = phone.parse(version)
        probe = data_type(DataSubtype.CUSTOM_DATA)
        await phone.write(phone.frame(probe, b"probe", check=True, encrypt=True))
        received = phone.model.fields.get("custom_data", []) == [b"probe"]
        assert received is recorded["device_received_probe"]
        errors = [ErrorCode(c).name for c in phone.model.errors_sent]
        assert errors == recorded["device_errors_reported"]
        if "version" in recorded:
            assert frame.crc_ok is True
            assert list(frame.data) == recorded["version"]
        else:
            assert frame.crc_ok is False
            got = int.from_bytes(version[-2:], "little")
            expected = wire.frame_checksum(frame.seq, frame.data)
            assert recorded["client_errors"] == [
                f"checksum error seq {frame.seq}: got {got:04x} expected {expected:04x}"
            ]
    finally:
        await phone.close()

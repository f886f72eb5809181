"""Where the console command's password comes from, and the per-device networks CSV."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from custom_components.ble_provisioning.protocol.cli.passwords import (
    NetworkRow,
    PasswordError,
    read_networks,
    read_password,
)

SECRET = "correct-horse-battery"


def _read(**kwargs: object) -> str | None:
    options: dict[str, object] = {
        "env": None,
        "file": None,
        "open_network": False,
        "ssid": "HomeNet",
        "interactive": False,
    }
    options.update(kwargs)
    return read_password(**options)  # type: ignore[arg-type]


def test_an_open_network_has_no_password() -> None:
    assert _read(open_network=True) is None
    assert _read(open_network=True, interactive=True) is None  # no prompt either


def test_the_environment_wins_over_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIFI_SECRET", SECRET)
    monkeypatch.setattr("getpass.getpass", pytest.fail)
    assert _read(env="WIFI_SECRET", interactive=True) == SECRET


@pytest.mark.parametrize(
    "sources",
    [
        {"env": "A", "file": "b"},
        {"env": "A", "open_network": True},
        {"file": "b", "open_network": True},
    ],
)
def test_one_source_only(sources: dict[str, object]) -> None:
    with pytest.raises(PasswordError, match="choose one of"):
        _read(**sources)


def test_an_unset_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIFI_NOT_SET", raising=False)
    with pytest.raises(PasswordError, match="WIFI_NOT_SET is not set"):
        _read(env="WIFI_NOT_SET")


def test_the_prompt_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return SECRET

    monkeypatch.setattr("getpass.getpass", prompt)
    with pytest.raises(PasswordError, match="no password"):
        _read()
    assert asked == []
    assert _read(interactive=True) == SECRET
    assert asked == ["Wi-Fi password for HomeNet: "]


def test_a_file_keeps_inner_spaces_and_drops_the_line_end(tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_bytes(b" two words \r\n")
    assert _read(file=str(path)) == " two words "


def test_stdin_as_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert _read(file="-") == SECRET


def test_an_unreadable_file_names_the_file_not_the_password(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(PasswordError, match="cannot read the password file") as caught:
        _read(file=str(missing))
    assert str(missing) in str(caught.value)
    assert caught.value.__cause__ is None  # the OSError is not chained (and not its traceback)
    with pytest.raises(PasswordError, match="cannot read the password file"):
        _read(file=str(tmp_path))  # a folder


def test_networks_rows(tmp_path: Path) -> None:
    path = tmp_path / "networks.csv"
    path.write_text(
        f"device,ssid,password\n 24:0a:c4:00:00:01 ,HomeNet,{SECRET}\nBLUFI_*,Guest,\n",
        encoding="utf-8",
    )
    first, second = read_networks(str(path))
    assert (first.device, first.ssid, first.password) == ("24:0a:c4:00:00:01", "HomeNet", SECRET)
    assert (second.device, second.ssid, second.password) == ("BLUFI_*", "Guest", None)
    assert SECRET not in repr(first)
    assert first.matches("24:0A:C4:00:00:01", "anything")
    assert not first.matches("24:0A:C4:00:00:02", "BLUFI_X")
    assert second.matches("24:0A:C4:00:00:02", "BLUFI_X")
    assert not second.matches("24:0A:C4:00:00:02", "blufi_x")  # patterns are case-sensitive


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (",HomeNet,secret-secret", 2),
        ("BLUFI_*,,secret-secret", 2),
        ("  ,HomeNet,", 2),
    ],
)
def test_a_row_without_device_or_ssid_is_refused(tmp_path: Path, row: str, line: int) -> None:
    path = tmp_path / "networks.csv"
    path.write_text(f"device,ssid,password\n{row}\n", encoding="utf-8")
    with pytest.raises(PasswordError, match="a row needs device and ssid") as caught:
        read_networks(str(path))
    assert f"networks.csv:{line}:" in str(caught.value)
    assert "secret" not in str(caught.value).replace(str(path), "")


def test_the_line_number_of_a_later_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "networks.csv"
    path.write_text("device,ssid,password\nA,HomeNet,\nB,HomeNet,\nC,,\n", encoding="utf-8")
    with pytest.raises(PasswordError, match=r"networks\.csv:4:"):
        read_networks(str(path))


def test_an_unreadable_networks_file(tmp_path: Path) -> None:
    with pytest.raises(PasswordError, match="cannot read") as caught:
        read_networks(str(tmp_path / "missing.csv"))
    assert "missing.csv" in str(caught.value)
    assert NetworkRow("a", "b").password is None

"""`--allow-plaintext-keyring` (before or after the command) is honoured by everything the process does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.compat import properties

from refarch_tui import cli, secrets
from refarch_tui.state import Account, Mode, Status
from refarch_tui.workspaces import create_workspace
from tests.run.conftest import write_live

ENTRY = "passwords/dev/master"
PASSWORD = "Plain-Text-Keyring-Password-0123456789"


class PlaintextKeyring(KeyringBackend):
    """A backend whose name says it stores secrets in plain text (as keyrings.alt's does)."""

    @properties.classproperty
    def priority(cls) -> float:  # type: ignore[override]
        # not viable: keyring must never pick this class by itself (it would join every test's chain)
        raise RuntimeError("installed explicitly by the fixture only")

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture
def plaintext_keyring() -> Iterator[PlaintextKeyring]:
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.set_password(secrets.SERVICE, ENTRY, PASSWORD)
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def workspace_with_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REFARCH_REHEARSAL_SPEED", "0")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no terragrunt: the sandbox rehearses
    # the identity checks are not what this test is about: every account gets an empty AWS environment
    monkeypatch.setattr("refarch_tui.run_access.account_environments", lambda *a, **k: lambda account: {})
    live = write_live(tmp_path / "live")
    workspace, state = create_workspace(
        live,
        [Account("security", "104983213567"), Account("dev", "368294012756")],
        ["us-east-1"],
        mode=Mode.SANDBOX,
        directory=tmp_path / "ws",
    )
    workspace.update_step(
        state, "passwords", "dev", Status.DONE, secret_env={"TF_VAR_master_password": ENTRY}
    )
    return workspace.directory


def apply(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_apply_without_the_flag_refuses_the_plaintext_keyring(
    plaintext_keyring: PlaintextKeyring, workspace_with_a_secret: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = apply(
        capsys, "apply", "--no-tui", "--workspace", str(workspace_with_a_secret), "--account", "dev"
    )
    assert code == 1
    assert "plain text" in output and "--allow-plaintext-keyring" in output
    assert PASSWORD not in output


@pytest.mark.parametrize("where", ["before", "after"])
def test_apply_honours_the_flag_before_or_after_the_command(
    where: str,
    plaintext_keyring: PlaintextKeyring,
    workspace_with_a_secret: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flag = ["--allow-plaintext-keyring"]
    command = ["apply", "--no-tui", "--workspace", str(workspace_with_a_secret), "--account", "dev"]
    argv = [*flag, *command] if where == "before" else [*command, *flag]
    code, output = apply(capsys, *argv)
    assert code == 0, output
    assert "TF_VAR_master_password" in output  # named as injected, never shown
    assert PASSWORD not in output


def test_the_tui_and_every_keyring_access_get_the_flag(
    plaintext_keyring: PlaintextKeyring, workspace_with_a_secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_run_app(*args: Any, **kwargs: Any) -> int:
        seen["allowed"] = secrets.plaintext_keyring_allowed()
        seen["value"] = secrets.fetch(ENTRY)  # as a screen or step would, with no flag of its own
        return 0

    monkeypatch.setattr(cli, "run_app", fake_run_app)
    assert cli.main(["--allow-plaintext-keyring", "--workspace", str(workspace_with_a_secret)]) == 0
    assert seen == {"allowed": True, "value": PASSWORD}
    secrets.allow_plaintext_keyring(False)
    with pytest.raises(secrets.KeyringError, match="--allow-plaintext-keyring"):
        secrets.fetch(ENTRY)

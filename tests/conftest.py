"""Every test runs with its own HOME and XDG directories, no AWS variables, and (via tests/with-keyring.sh)
inside a private D-Bus session whose gnome-keyring is a throwaway one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

if os.environ.get("REFARCH_TESTS_ISOLATED") != "1":
    pytest.exit(
        "Run the tests through `make test` (or `bash tests/with-keyring.sh .venv/bin/python -m pytest ...`): "
        "they need a private D-Bus session and keyring so they never touch yours.",
        returncode=4,
    )


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    for name, sub in (
        ("HOME", "home"),
        ("XDG_DATA_HOME", "xdg-data"),
        ("XDG_CONFIG_HOME", "xdg-config"),
        ("XDG_CACHE_HOME", "xdg-cache"),
        ("XDG_STATE_HOME", "xdg-state"),
    ):
        path = tmp_path / sub
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in list(os.environ):
        if name.startswith(("AWS_", "TG_", "TERRAGRUNT_", "TF_VAR_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    yield home
    from refarch_tui import secrets

    secrets.forget_all_registered()
    secrets.allow_plaintext_keyring(False)  # cli.main sets it from --allow-plaintext-keyring


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes a snapshot depend on the moment it was taken."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture
def sample_live() -> Path:
    return REPO / "assets" / "sample-live"


@pytest.fixture
def live_copy(tmp_path: Path, sample_live: Path) -> Path:
    """A writable copy of the bundled sample live repo."""
    import shutil

    target = tmp_path / "live"
    shutil.copytree(sample_live, target)
    return target


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server per test session on 127.0.0.1 with a random port (reset per test by `moto`)."""
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto(moto_endpoint: str) -> str:
    """A clean emulator endpoint for this test."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    return moto_endpoint

"""Local SSH key files for EC2 key pairs: generated here (so the private key never travels), encrypted
with a passphrase, written once with mode 0400 in a 0700 directory and never overwritten.

Files: `<dir>/<name>` (OpenSSH private key, passphrase-protected, 0400) and `<dir>/<name>.pub` (0444).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refarch_tui import secrets

KEY_TYPES = ("ed25519", "rsa-4096")
PRIVATE_MODE = 0o400
PUBLIC_MODE = 0o444
DIR_MODE = 0o700


class KeyFileError(Exception):
    """A key file problem the operator can act on; the message says what to do."""


@dataclass(frozen=True)
class LocalKey:
    path: Path
    public_key: str  # "ssh-ed25519 AAAA…" (type and base64 only, no comment)
    key_type: str  # ed25519 | rsa-4096 | rsa-<bits>

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def normalise_public(text: str) -> str:
    """An OpenSSH public key as "TYPE BASE64" (comments and spacing dropped) for comparing."""
    parts = text.strip().split()
    return " ".join(parts[:2])


def fingerprint(public_key: str) -> str:
    """The SHA256 fingerprint as ssh-keygen prints it (SHA256:base64, no padding)."""
    blob = base64.b64decode(normalise_public(public_key).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def new_passphrase() -> str:
    import secrets as random

    value = random.token_urlsafe(32)
    secrets.register_secret(value)
    return value


def _key_type(private: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(private, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(private, rsa.RSAPrivateKey):
        return f"rsa-{private.key_size}"
    return type(private).__name__


def _public_of(private: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return normalise_public(raw.decode("ascii"))


def private_dir(directory: Path) -> None:
    """Create `directory` with mode 0700 (parents too); refuse an existing one others can read."""
    if directory.exists():
        if not directory.is_dir():
            raise KeyFileError(f"{directory} is not a directory; choose another key_dir")
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"{directory} has mode {mode:04o}: others can read it. Use a private directory "
                f"(chmod 700 {directory}) or another key_dir."
            )
        return
    directory.mkdir(parents=True, mode=DIR_MODE)
    directory.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask


def _write_once(path: Path, data: bytes, mode: int) -> None:
    """Write atomically and never over an existing file (hard link of a finished temp file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise KeyFileError(f"{path} already exists; refarch-tui never overwrites a key file") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def generate(path: Path, key_type: str, passphrase: str) -> LocalKey:
    """A new key pair, the private half encrypted with `passphrase`, written to `path` (and `path`.pub)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if key_type not in KEY_TYPES:
        raise KeyFileError(f"key_type is one of {', '.join(KEY_TYPES)}, not {key_type!r}")
    if path.exists() or path.is_symlink():
        raise KeyFileError(f"{path} already exists; refarch-tui never overwrites a key file")
    private: Any = (
        ed25519.Ed25519PrivateKey.generate()
        if key_type == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=4096)
    )
    data = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    public = _public_of(private)
    _write_once(path, data, PRIVATE_MODE)
    pub = path.with_name(path.name + ".pub")
    if not pub.exists():
        _write_once(pub, (public + "\n").encode("ascii"), PUBLIC_MODE)
    return LocalKey(path, public, _key_type(private))


def load(path: Path, passphrase: str) -> LocalKey:
    """The local key at `path`, decrypted with `passphrase` to read its public half."""
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        private = serialization.load_ssh_private_key(data, password=passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise KeyFileError(
            f"{path} does not open with the passphrase given (or kept in the keyring); type the right one, "
            "or choose another key name or key_dir"
        ) from None
    return LocalKey(path, _public_of(private), _key_type(private))


def problems(path: Path) -> str | None:
    """Why the private key file no longer holds (missing, mode not 0400, not encrypted); None when fine."""
    from cryptography.hazmat.primitives import serialization

    try:
        info = path.lstat()
        data = path.read_bytes()
    except FileNotFoundError:
        return f"the private key file {path} is missing"
    except OSError as exc:
        return f"the private key file {path} cannot be read ({exc.strerror or exc})"
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode) or mode != PRIVATE_MODE:
        return f"the private key file {path} has mode {mode:04o}, not 0400 (chmod 400 {path})"
    try:
        serialization.load_ssh_private_key(data, password=None)
    except TypeError:
        return None  # "Password was not given but private key is encrypted": as it should be
    except ValueError:
        return f"{path} is no longer an OpenSSH private key"
    return f"the private key file {path} is no longer passphrase-protected"

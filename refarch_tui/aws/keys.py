"""Access keys: format checks before AWS is called, the OS keyring (never disk) and the environment."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from refarch_tui import secrets
from refarch_tui.aws.errors import AwsAccessError, ErrorKind

ACCESS_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
SECRET_ACCESS_KEY = re.compile(r"^[A-Za-z0-9/+=]{40}$")

# Fake credentials the sandbox uses with the emulator; moto accepts any key, AWS would refuse these.
SANDBOX_ACCESS_KEY_ID = "AKIAREFARCHSANDBOX01"
SANDBOX_SECRET_ACCESS_KEY = "refarchSandboxFakeSecretKey0000000000000"


@dataclass(frozen=True)
class AccessKeys:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @property
    def temporary(self) -> bool:
        return self.access_key_id.startswith("ASIA") or bool(self.session_token)

    def register(self) -> AccessKeys:
        secrets.register_secret(self.secret_access_key)
        secrets.register_secret(self.session_token)
        return self


SANDBOX_KEYS = AccessKeys(SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY)


def validate_keys(access_key_id: str, secret_access_key: str, session_token: str | None = None) -> AccessKeys:
    """Check the shapes of typed keys before any AWS call; the error says which field is wrong."""
    key_id = access_key_id.strip()
    secret = secret_access_key.strip()
    token = (session_token or "").strip() or None
    secrets.register_secret(secret)
    secrets.register_secret(token)
    if not ACCESS_KEY_ID.match(key_id):
        raise AwsAccessError(
            ErrorKind.BAD_KEY_FORMAT,
            "The access key ID should be 20 characters: AKIA (or ASIA for temporary keys) followed by 16 "
            f"capital letters or digits; what was entered has {len(key_id)} characters. Copy it again from "
            "the IAM console.",
        )
    if not SECRET_ACCESS_KEY.match(secret):
        raise AwsAccessError(
            ErrorKind.BAD_KEY_FORMAT,
            f"The secret access key should be 40 characters (letters, digits, / + =); what was entered has "
            f"{len(secret)}. Copy it again from the IAM console.",
        )
    if key_id.startswith("ASIA") and not token:
        raise AwsAccessError(
            ErrorKind.BAD_KEY_FORMAT,
            "Keys starting with ASIA are temporary and need their session token too. Paste the token.",
        )
    return AccessKeys(key_id, secret, token).register()


def keys_from_env(env: Mapping[str, str] | None = None) -> AccessKeys | None:
    """The keys exported in the environment that started refarch-tui, if any (format-checked)."""
    env = os.environ if env is None else env
    key_id = env.get("AWS_ACCESS_KEY_ID", "")
    secret = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id and not secret:
        return None
    return validate_keys(key_id, secret, env.get("AWS_SESSION_TOKEN"))


def workspace_key_id(directory: Path) -> str:
    """A stable short name for a workspace, used in keyring entry names."""
    resolved = str(Path(directory).expanduser().resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(resolved).name) or "workspace"
    return f"{name}-{digest}"


def keyring_names(workspace_id: str) -> tuple[str, str, str]:
    base = f"aws/{workspace_id}"
    return f"{base}/access-key", f"{base}/secret-key", f"{base}/session-token"


def store_keys(workspace_id: str, keys: AccessKeys) -> None:
    """Keep typed keys in the OS keyring only; a missing or insecure keyring is an error, never a file."""
    key_name, secret_name, token_name = keyring_names(workspace_id)
    try:
        secrets.store(key_name, keys.access_key_id)
        secrets.store(secret_name, keys.secret_access_key)
        if keys.session_token:
            secrets.store(token_name, keys.session_token)
        else:
            secrets.delete(token_name)
    except secrets.KeyringError as exc:
        raise AwsAccessError(ErrorKind.KEYRING, str(exc)) from None


def load_keys(workspace_id: str) -> AccessKeys | None:
    key_name, secret_name, token_name = keyring_names(workspace_id)
    try:
        key_id = secrets.fetch(key_name)
        secret = secrets.fetch(secret_name)
        token = secrets.fetch(token_name)
    except secrets.KeyringError as exc:
        raise AwsAccessError(ErrorKind.KEYRING, str(exc)) from None
    if not key_id or not secret:
        return None
    return AccessKeys(key_id, secret, token).register()


def forget_keys(workspace_id: str) -> None:
    for name in keyring_names(workspace_id):
        try:
            secrets.delete(name)
        except secrets.KeyringError as exc:
            raise AwsAccessError(ErrorKind.KEYRING, str(exc)) from None

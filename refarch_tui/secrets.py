"""Secrets: the OS keyring (secure backends only), password generation, and the redactor every log sink uses.

Every secret value this process reads or creates is registered here, so any text about to be shown, logged
or stored can be redacted (or, for state files, refused) without each caller remembering to.
"""

from __future__ import annotations

import re
import string
import threading
from typing import Any

SERVICE = "refarch-tui"
REDACTED = "***REDACTED***"
MIN_PASSWORD_LENGTH = 32
MIN_REGISTERED_LENGTH = 6  # shorter values (MFA codes aside) would redact ordinary words

# RDS refuses '/', '@', '"' and spaces in master passwords; shells dislike quotes and backslashes.
PASSWORD_PUNCTUATION = "!#%+-.:=?^_~"
PASSWORD_ALPHABET = string.ascii_letters + string.digits + PASSWORD_PUNCTUATION

# Shapes that are secret whatever their value: env assignments of well-known secret variables.
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<key>(?:AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|TF_VAR_\w*(?:password|passphrase|secret|token)\w*)"
    r"\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|\S+)",
    re.IGNORECASE,
)

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None
_values: tuple[str, ...] = ()  # the registered values, for a cheap "is any of them here at all" check
_ASSIGNMENT_HINTS = ("tf_var_", "aws_secret_access_key", "aws_session_token")


class KeyringError(Exception):
    """The keyring cannot be used; the message says what to do."""


def register_secret(value: str | None) -> None:
    """Remember a value so the redactor hides it everywhere from now on."""
    global _pattern, _values
    if not value or len(value) < MIN_REGISTERED_LENGTH:
        return
    with _lock:
        if value in _known:
            return
        _known.add(value)
        ordered = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))
        _values = tuple(ordered)


def registered_values() -> tuple[str, ...]:
    """Every registered value, for a helper process that must redact the same output (passed in its env)."""
    return _values


def forget_all_registered() -> None:
    global _pattern, _values
    with _lock:
        _known.clear()
        _pattern = None
        _values = ()


def redact(text: str) -> str:
    # plain substring checks first: most text (e.g. terragrunt output floods) holds no secret at all, and
    # `in` is far cheaper than running the two regexes over every character
    pattern, values = _pattern, _values
    if pattern is not None and any(value in text for value in values):
        text = pattern.sub(REDACTED, text)
    lowered = text.lower()
    if not any(hint in lowered for hint in _ASSIGNMENT_HINTS):
        return text
    return _SECRET_ASSIGNMENT.sub(lambda m: m.group("key") + REDACTED, text)


ASSIGNMENT_WINDOW = 1 << 16  # an env assignment this close to a cut is kept whole with what follows


def safe_cut(text: str) -> int:
    """Where a stream's over-long pending `text` may be cut so that no secret is split in two halves that no
    pattern would match: at most len - (longest registered secret - 1), so a secret that starts here and ends
    in data not read yet stays in the kept tail, and never inside a registered value or a secret
    assignment near the end. The head `text[:cut]` is then redacted on its own, the tail goes on."""
    pattern, values = _pattern, _values
    longest = len(values[0]) if values else 0
    cut = len(text) - max(longest - 1, 0)
    if pattern is not None:
        window_start = max(cut - longest, 0)
        for match in pattern.finditer(text, window_start):
            if match.start() < cut < match.end():
                cut = match.start()
                break
            if match.start() >= cut:
                break
    window = text[max(cut - ASSIGNMENT_WINDOW, 0) :]
    if any(hint in window.lower() for hint in _ASSIGNMENT_HINTS):
        offset = len(text) - len(window)
        for match in _SECRET_ASSIGNMENT.finditer(window):
            if offset + match.start() < cut <= offset + match.end():
                cut = offset + match.start()
                break
    return cut if cut > 0 else len(text)


def contains_secret(text: str) -> bool:
    pattern = _pattern
    return bool(pattern is not None and pattern.search(text)) or bool(_SECRET_ASSIGNMENT.search(text))


def generate_password(length: int = 40) -> str:
    """A random password from `secrets`, with every character class present."""
    if length < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords must be at least {MIN_PASSWORD_LENGTH} characters")
    import secrets as _random  # pulls in hashlib; not needed for the first paint

    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, PASSWORD_PUNCTUATION)
    while True:
        password = "".join(_random.choice(PASSWORD_ALPHABET) for _ in range(length))
        if all(any(c in cls for c in password) for cls in classes) and password[0].isalnum():
            register_secret(password)
            return password


# -- keyring ---------------------------------------------------------------------------------------

_INSECURE_MARKERS = ("plaintext", "keyrings.alt", "null", "fail")


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def backend_name(backend: Any | None = None) -> str:
    backend = backend if backend is not None else _backend()
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _leaf_backends(backend: Any) -> list[Any]:
    inner = getattr(backend, "backends", None)
    return list(inner) if inner else [backend]


def backend_is_secure(backend: Any | None = None) -> bool:
    backend = backend if backend is not None else _backend()
    leaves = _leaf_backends(backend)
    return bool(leaves) and all(
        not any(marker in backend_name(leaf).lower() for marker in _INSECURE_MARKERS) for leaf in leaves
    )


_plaintext_allowed = False  # the operator's --allow-plaintext-keyring, for everything this process does


def allow_plaintext_keyring(allowed: bool = True) -> None:
    """Set once by the command line: every keyring access of this process (doctor, keys typed on the
    Authenticate screen, secrets an apply injects, steps, export) then accepts a plain-text backend."""
    global _plaintext_allowed
    _plaintext_allowed = allowed


def plaintext_keyring_allowed() -> bool:
    return _plaintext_allowed


def check_keyring(*, allow_plaintext: bool = False) -> str:
    """Name of the usable keyring backend, or KeyringError saying how to get one."""
    allow_plaintext = allow_plaintext or _plaintext_allowed
    backend = _backend()
    name = backend_name(backend)
    if "fail" in name.lower() or "null" in name.lower():
        raise KeyringError(
            "No OS keyring is available. On a desktop, unlock your keyring; over SSH or in CI run inside "
            "`dbus-run-session` with `gnome-keyring-daemon --unlock` (see the README, 'Keys and secrets')."
        )
    if not backend_is_secure(backend) and not allow_plaintext:
        raise KeyringError(
            f"The keyring backend in use ({name}) stores secrets in plain text. Refusing to use it. Use the "
            "OS keyring (Secret Service, macOS Keychain, Windows Credential Manager), or pass "
            "--allow-plaintext-keyring if you accept the risk."
        )
    return name


def store(name: str, value: str, *, allow_plaintext: bool = False) -> None:
    import keyring
    import keyring.errors

    check_keyring(allow_plaintext=allow_plaintext)
    register_secret(value)
    try:
        keyring.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise KeyringError(f"Could not store {name!r} in the keyring: {exc}") from None


def fetch(name: str, *, allow_plaintext: bool = False) -> str | None:
    import keyring
    import keyring.errors

    check_keyring(allow_plaintext=allow_plaintext)
    try:
        value: str | None = keyring.get_password(SERVICE, name)
    except keyring.errors.KeyringError as exc:
        raise KeyringError(f"Could not read {name!r} from the keyring: {exc}") from None
    register_secret(value)
    return value


def delete(name: str) -> bool:
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise KeyringError(f"Could not delete {name!r} from the keyring: {exc}") from None
    return True

from __future__ import annotations

import pytest

from refarch_tui import secrets


def test_generated_passwords_are_long_random_and_varied() -> None:
    passwords = {secrets.generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) >= secrets.MIN_PASSWORD_LENGTH
        assert not set(password) & set('/@" ')
        assert any(c.isupper() for c in password) and any(c.isdigit() for c in password)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        secrets.generate_password(31)


def test_redactor_hides_registered_values_and_secret_assignments() -> None:
    secrets.register_secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    line = "using wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and TF_VAR_master_password=hunter2hunter2 ok"
    redacted = secrets.redact(line)
    assert "wJalrXUtnFEMI" not in redacted
    assert "hunter2" not in redacted
    assert redacted.endswith(" ok")
    assert secrets.contains_secret(line)
    assert not secrets.contains_secret("nothing to see")


def test_keyring_round_trip_in_the_private_secret_service() -> None:
    name = secrets.check_keyring()
    assert "SecretService" in name
    password = secrets.generate_password()
    secrets.store("test/db-password", password)
    assert secrets.fetch("test/db-password") == password
    assert secrets.delete("test/db-password")
    assert secrets.fetch("test/db-password") is None


def test_plaintext_backends_are_refused_unless_opted_in(monkeypatch: pytest.MonkeyPatch) -> None:
    class PlaintextKeyring:
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    monkeypatch.setattr(secrets, "_backend", lambda: PlaintextKeyring())
    with pytest.raises(secrets.KeyringError, match="plain text"):
        secrets.check_keyring()
    assert secrets.check_keyring(allow_plaintext=True).startswith("keyrings.alt.file")


def test_missing_keyring_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.backends.fail

    monkeypatch.setattr(secrets, "_backend", lambda: keyring.backends.fail.Keyring())
    with pytest.raises(secrets.KeyringError, match="dbus-run-session"):
        secrets.check_keyring()

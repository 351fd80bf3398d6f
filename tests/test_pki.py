"""The private PKI: chains that verify, keys that must match, and Java stores a real JRE reads."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID

from refarch_tui import pki

NAMES = ("*.dev.acme-multi-account.internal", "services.dev.acme-multi-account.internal")


@pytest.fixture(scope="module")
def ca() -> pki.Pair:
    return pki.make_ca("dev internal CA", organisation="test", days=3650)


@pytest.fixture(scope="module")
def server(ca: pki.Pair) -> pki.Pair:
    return pki.make_server(ca, NAMES, organisation="test", days=825)


def test_the_server_certificate_verifies_against_its_ca(ca: pki.Pair, server: pki.Pair) -> None:
    cert = server.certificate
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.signature_hash_algorithm is not None
    ca.key.public_key().verify(
        cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
    )
    assert pki.chain_problems(cert, ca.certificate) == []
    assert pki.dns_names(cert) == list(NAMES)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ca_usage = ca.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign
    assert ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.not_valid_after_utc <= ca.certificate.not_valid_after_utc


def test_a_certificate_from_another_ca_does_not_verify(server: pki.Pair) -> None:
    other = pki.make_ca("someone else", organisation="test", days=30)
    problems = pki.chain_problems(server.certificate, other.certificate)
    assert problems and ("not issued by the CA" in problems[0] or "signature" in problems[0])


def test_a_key_that_does_not_match_is_refused(ca: pki.Pair, server: pki.Pair) -> None:
    pki.check_pair(server, what="server.pem")
    mismatched = pki.Pair(ca.key, server.certificate)
    assert not pki.key_matches(server.certificate, ca.key)
    with pytest.raises(pki.PkiError, match=r"the private key of server\.pem does not match its certificate"):
        pki.check_pair(mismatched, what="server.pem")


def test_stores_load_back_with_their_password_only(ca: pki.Pair, server: pki.Pair) -> None:
    keystore = pki.java_keystore(server, ca.certificate, password="s3cret-store-password", alias="server")
    truststore = pki.java_truststore(ca.certificate, password="s3cret-store-password", alias="ca")
    loaded = pki.load_store(keystore, "s3cret-store-password")
    assert loaded.key is not None and loaded.cert is not None
    assert loaded.cert.certificate == server.certificate and loaded.cert.friendly_name == b"server"
    assert pki.key_matches(loaded.cert.certificate, loaded.key)  # type: ignore[arg-type]
    assert [c.certificate for c in loaded.additional_certs] == [ca.certificate]
    trusted = pki.load_store(truststore, "s3cret-store-password")
    assert trusted.key is None and [c.certificate for c in trusted.additional_certs] == [ca.certificate]
    with pytest.raises(pki.PkiError, match="does not open with its password"):
        pki.load_store(truststore, "wrong password")


def _keytool(store: Path, password: str) -> str:
    keytool = shutil.which("keytool")
    assert keytool, "keytool is missing: `make test` installs a JRE (.ci/system-deps.sh)"
    result = subprocess.run(
        [
            keytool,
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            str(store),
            "-storepass:env",
            "STOREPASS",
        ],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "STOREPASS": password,
            "HOME": str(store.parent),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_real_jre_sees_a_trusted_ca_and_a_private_key_entry(
    ca: pki.Pair, server: pki.Pair, tmp_path: Path
) -> None:
    trust = tmp_path / "truststore.p12"
    trust.write_bytes(pki.java_truststore(ca.certificate, password="store-pass-123456", alias="ca"))
    listing = _keytool(trust, "store-pass-123456")
    assert "Your keystore contains 1 entry" in listing
    assert "Entry type: trustedCertEntry" in listing and "CN=dev internal CA" in listing

    keys = tmp_path / "keystore.p12"
    keys.write_bytes(pki.java_keystore(server, ca.certificate, password="store-pass-123456", alias="server"))
    listing = _keytool(keys, "store-pass-123456")
    assert "Alias name: server" in listing and "Entry type: PrivateKeyEntry" in listing
    assert "Certificate chain length: 2" in listing


def test_a_ca_only_bundle_made_the_wrong_way_is_empty_to_java(ca: pki.Pair, tmp_path: Path) -> None:
    """Why the truststore uses serialize_java_truststore: keytool exits 0 on this one but lists nothing."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    wrong = tmp_path / "wrong.p12"
    wrong.write_bytes(
        pkcs12.serialize_key_and_certificates(
            None, None, None, [ca.certificate], BestAvailableEncryption(b"store-pass-123456")
        )
    )
    listing = _keytool(wrong, "store-pass-123456")
    assert "trustedCertEntry" not in listing and "contains 0 entries" in listing

"""A small private PKI with `cryptography`: a CA per account, server certificates it signs, the checks ACM
would make (the key matches the certificate, the chain verifies), and Java PKCS#12 key and trust stores.

Java reads a PKCS#12 truststore only when each certificate carries Java's trusted-key attribute, which
`pkcs12.serialize_java_truststore` writes; a CA-only bundle made with `serialize_key_and_certificates` looks
empty to Java (keytool still exits 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_BITS = 2048  # what ACM imports for load balancers and what every JRE takes
CLOCK_SKEW = dt.timedelta(minutes=5)


class PkiError(ValueError):
    """A key or certificate that must not be used; the message says which and why."""


@dataclass(frozen=True)
class Pair:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return certificate_pem(self.certificate)

    @property
    def key_pem(self) -> str:
        """Unencrypted PKCS#8: only for the OS keyring and ACM's ImportCertificate, never for a file."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def make_ca(common_name: str, *, organisation: str, days: int) -> Pair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = _name(common_name, organisation)
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Pair(key, certificate)


def make_server(ca: Pair, names: Sequence[str], *, organisation: str, days: int) -> Pair:
    """A server (and client, for mutual TLS between apps) certificate for `names`, signed by `ca`."""
    if not names:
        raise PkiError("a server certificate needs at least one DNS name")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    now = _now()
    not_after = min(now + dt.timedelta(days=days), ca.certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0], organisation))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Pair(key, certificate)


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_certificate(pem: str, *, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise PkiError(f"{what} is not a PEM certificate") from None


def load_key(pem: str, *, what: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise PkiError(f"{what} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError(f"{what} is not an RSA key")
    return key


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_matches(certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    return _spki(certificate.public_key()) == _spki(key.public_key())


def check_pair(pair: Pair, *, what: str) -> None:
    """ACM refuses a key that does not belong to the certificate (the emulator does not): refuse it first."""
    if not key_matches(pair.certificate, pair.key):
        raise PkiError(f"the private key of {what} does not match its certificate")


def chain_problems(
    certificate: x509.Certificate, ca: x509.Certificate, *, now: dt.datetime | None = None
) -> list[str]:
    """Why `certificate` would not verify against `ca` (signature, issuer, validity), empty when it does."""
    problems = []
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError) as exc:
        problems.append(f"not issued by the CA ({exc})")
    except Exception:  # InvalidSignature carries no message
        problems.append("the CA's signature does not verify")
    moment = now or _now()
    if certificate.not_valid_after_utc <= moment:
        problems.append(f"expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    if certificate.not_valid_before_utc > moment:
        problems.append(f"not valid before {certificate.not_valid_before_utc:%Y-%m-%d}")
    return problems


def dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.get_values_for_type(x509.DNSName)]


def _encryption(password: str) -> serialization.KeySerializationEncryption:
    # AES-256 with PBKDF2-SHA256 and a SHA-256 MAC: what keytool writes by default since Java 17
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(10000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode("utf-8"))
    )


def java_keystore(pair: Pair, ca: x509.Certificate, *, password: str, alias: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        alias.encode("utf-8"), pair.key, pair.certificate, [ca], _encryption(password)
    )


def java_truststore(ca: x509.Certificate, *, password: str, alias: str) -> bytes:
    return pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(ca, alias.encode("utf-8"))], _encryption(password)
    )


def load_store(data: bytes, password: str) -> pkcs12.PKCS12KeyAndCertificates:
    try:
        return pkcs12.load_pkcs12(data, password.encode("utf-8"))
    except ValueError:
        raise PkiError("the store does not open with its password (or is not PKCS#12)") from None


def expiry(certificate: x509.Certificate) -> str:
    return certificate.not_valid_after_utc.isoformat(timespec="seconds")

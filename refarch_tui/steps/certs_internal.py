"""Self-signed TLS for internal load balancers and Java apps (seed: "Self-signed TLS certs for your internal
load balancers" / "… for java based apps").

One private CA per account signs a server certificate for each `alb-internal` unit's names
(`tls_domain_name` and `domain_name`), imported into ACM in every region such a unit deploys to, with the CA
as chain. Private keys live in the OS keyring only; certificates and the CA (for distribution to the apps)
are written under the workspace. For Java apps, a PKCS#12 keystore (an app certificate from the same CA) and
a truststore (the CA) locked with a generated password kept in the keyring (and Secrets Manager if chosen).

Nothing is written before the key matches its certificate, the chain verifies and ACM took the imports, so a
failure leaves no half-made material behind; a second run reuses what is there.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from refarch_tui import pki, secrets
from refarch_tui.atomic import atomic_write_bytes, atomic_write_text
from refarch_tui.aws import acm
from refarch_tui.aws.errors import AwsAccessError, explain
from refarch_tui.aws.keys import workspace_key_id
from refarch_tui.steps import units
from refarch_tui.steps.contract import StepContext, StepError, StepPlan
from refarch_tui.steps.dns_names import InvalidDomain, normalise

KIND = "alb-internal"
ORGANISATION = "refarch-tui private CA"
RENEW_BEFORE = dt.timedelta(days=30)
JAVA_ALIAS = "server"
TRUST_ALIAS = "ca"


@dataclass(frozen=True)
class Store:
    """Where one account's material goes: files under the workspace, keys in the keyring."""

    directory: Path
    keyring_prefix: str

    @classmethod
    def for_account(cls, ctx: StepContext) -> Store:
        return cls(
            ctx.workspace.directory / "certs" / ctx.account,
            f"certs/{workspace_key_id(ctx.workspace.directory)}/{ctx.account}",
        )

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> str:
        return f"{self.keyring_prefix}/ca-key"

    def server_file(self, slug: str) -> Path:
        return self.directory / f"{slug}.pem"

    def server_key(self, slug: str) -> str:
        return f"{self.keyring_prefix}/{slug}/key"

    @property
    def keystore(self) -> Path:
        return self.directory / "java" / "keystore.p12"

    @property
    def truststore(self) -> Path:
        return self.directory / "java" / "truststore.p12"

    @property
    def store_password(self) -> str:
        return f"{self.keyring_prefix}/java-store-password"


def slug(names: tuple[str, ...]) -> str:
    return re.sub(r"[^a-z0-9.-]", "-", names[0].replace("*", "wildcard"))


@dataclass
class Internal:
    names: tuple[str, ...]
    regions: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slug(self.names)


def _clean(name: str, where: str) -> str:
    try:
        return normalise(name, wildcard=True, what=where)
    except InvalidDomain as exc:
        raise StepError(f"{exc}; correct it in the live repo, then run this step again") from None


def wanted(ctx: StepContext) -> list[Internal]:
    by_names: dict[tuple[str, ...], Internal] = {}
    for unit in units.of_kind(ctx.tree, ctx.account, KIND):
        where = units.config_file(unit)
        names = [_clean(n, f"tls_domain_name in {where}") for n in units.listener_domains(unit)]
        domain = units.string_input(unit, "domain_name")
        if domain:
            names.append(_clean(domain, f"domain_name in {where}"))
        if not names:
            continue
        entry = by_names.setdefault(tuple(dict.fromkeys(names)), Internal(tuple(dict.fromkeys(names))))
        region = units.region_of(unit, ctx.region)
        if region not in entry.regions:
            entry.regions.append(region)
        entry.units.append(unit.path)
    return list(by_names.values())


def java_names(ctx: StepContext, answers: Mapping[str, Any], internal: list[Internal]) -> tuple[str, ...]:
    given = [str(n) for n in answers.get("java_names") or []]
    if given:
        return tuple(dict.fromkeys(_clean(n, "java_names") for n in given))
    wildcards = [n for entry in internal for n in entry.names if n.startswith("*.")]
    return tuple(dict.fromkeys(wildcards[:1] or [n for e in internal for n in e.names][:1]))


@dataclass
class InternalPlan:
    store: Store
    certificates: list[Internal]
    java: tuple[str, ...]  # names of the Java app certificate, () when no Java stores are made
    delete_keys: bool = False
    secrets_manager: bool = False


def plan(ctx: StepContext, answers: Mapping[str, Any], out: StepPlan) -> InternalPlan:
    store = Store.for_account(ctx)
    certificates = wanted(ctx) if answers.get("internal", True) else []
    java = java_names(ctx, answers, wanted(ctx)) if answers.get("java", True) else ()
    if certificates or java:
        try:
            secrets.check_keyring(allow_plaintext=ctx.allow_plaintext_keyring)
        except secrets.KeyringError as exc:
            raise StepError(f"private keys are kept in the OS keyring only: {exc}") from None
        out.actions.append(
            f"use the private CA of {ctx.account} ({_display(store.ca_file, ctx)}; created when "
            "absent, its key in "
            f"the OS keyring entry {store.ca_key})"
        )
    for entry in certificates:
        out.actions.append(
            f"self-signed certificate for {', '.join(entry.names)} ({', '.join(entry.units)}), "
            "imported into ACM "
            f"in {', '.join(entry.regions)} with the CA as chain; key in the OS keyring only"
        )
    if java:
        where = "the OS keyring" + (
            " and Secrets Manager" if answers.get("store_password_in_secrets_manager") else ""
        )
        out.actions.append(
            f"Java keystore ({', '.join(java)}) and truststore (the CA) in "
            f"{_display(store.keystore.parent, ctx)}, "
            f"locked with a generated password kept in {where}"
        )
    if answers.get("delete_private_keys") and certificates:
        out.actions.append("delete the load balancers' private keys from the keyring once ACM holds them")
    return InternalPlan(
        store,
        certificates,
        java,
        delete_keys=bool(answers.get("delete_private_keys")),
        secrets_manager=bool(answers.get("store_password_in_secrets_manager")),
    )


def _display(path: Path, ctx: StepContext) -> str:
    try:
        return str(path.relative_to(ctx.workspace.directory))
    except ValueError:
        return str(path)


# -- execution -------------------------------------------------------------------------------------------


@dataclass
class InternalOutcome:
    ca: dict[str, Any] = field(default_factory=dict)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    java: dict[str, Any] = field(default_factory=dict)
    keyring: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    deleted_keys: list[str] = field(default_factory=list)


@dataclass
class _Writes:
    """Everything to persist once AWS took the imports: keyring entries first, then files."""

    keyring: dict[str, str] = field(default_factory=dict)
    files: dict[Path, tuple[bytes, int]] = field(default_factory=dict)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def _fetch(entry: str, ctx: StepContext) -> str | None:
    try:
        return secrets.fetch(entry, allow_plaintext=ctx.allow_plaintext_keyring)
    except secrets.KeyringError as exc:
        raise StepError(str(exc)) from None


def _current_ca(store: Store, ctx: StepContext) -> tuple[x509.Certificate | None, pki.Pair | None]:
    pem = _read(store.ca_file)
    if pem is None:
        return None, None
    try:
        certificate = pki.load_certificate(pem, what=str(store.ca_file))
    except pki.PkiError as exc:
        raise StepError(f"{exc}; move it aside to create a new CA") from None
    if pki.chain_problems(certificate, certificate, now=dt.datetime.now(dt.UTC) + RENEW_BEFORE):
        return None, None  # expired or about to: a new CA is made and every certificate re-issued
    key_pem = _fetch(store.ca_key, ctx)
    if key_pem is None:
        return certificate, None
    try:
        pair = pki.Pair(pki.load_key(key_pem, what=f"keyring entry {store.ca_key}"), certificate)
        pki.check_pair(pair, what=f"the CA ({store.ca_file})")
    except pki.PkiError as exc:
        raise StepError(
            f"{exc}: the keyring entry {store.ca_key} and {store.ca_file} do not belong together. Move "
            f"{store.ca_file} aside to create a new CA (apps that trust the old one need the new ca.pem)"
        ) from None
    return certificate, pair


def _usable(certificate: x509.Certificate, ca: x509.Certificate, names: tuple[str, ...]) -> bool:
    soon = dt.datetime.now(dt.UTC) + RENEW_BEFORE
    return not pki.chain_problems(certificate, ca, now=soon) and set(pki.dns_names(certificate)) == set(names)


def _need_ca(ca: pki.Pair | None, store: Store) -> pki.Pair:
    """The CA with its key, to sign something new; a CA on disk whose key is gone cannot sign."""
    if ca is None:
        raise StepError(
            f"{store.ca_file} is there but its private key is not in the keyring ({store.ca_key}), so no new "
            f"certificate can be signed. Move {store.ca_file} aside to create a new CA"
        )
    return ca


def execute(ctx: StepContext, internal: InternalPlan) -> InternalOutcome:
    outcome = InternalOutcome()
    if not internal.certificates and not internal.java:
        return outcome
    store = internal.store
    writes = _Writes()
    ca_cert, ca = _current_ca(store, ctx)
    if ca_cert is None:
        ca = pki.make_ca(f"{ctx.account} internal CA", organisation=ORGANISATION, days=3650)
        ca_cert = ca.certificate
        writes.keyring[store.ca_key] = ca.key_pem
        writes.files[store.ca_file] = (ca.certificate_pem.encode("ascii"), 0o644)
        ctx.progress(f"made a private CA for {ctx.account}")
    keyring = {store.ca_key} if ca is not None else set()
    outcome.ca = {
        "file": str(store.ca_file),
        "expires": pki.expiry(ca_cert),
        "subject": ca_cert.subject.rfc4514_string(),
    }
    for entry in internal.certificates:
        ctx.check_cancel()
        facts, key_entry = _internal_certificate(ctx, entry, store, ca_cert, ca, writes)
        outcome.certificates.extend(facts)
        if key_entry:
            keyring.add(key_entry)
    if internal.java:
        outcome.java = _java(ctx, internal, store, ca_cert, ca, writes)
        keyring.add(store.store_password)
    _persist(ctx, writes)
    outcome.files = sorted(str(p) for p in writes.files)
    if internal.delete_keys:
        for entry in internal.certificates:
            name = store.server_key(entry.slug)
            if name in keyring and secrets.delete(name):
                outcome.deleted_keys.append(name)
                keyring.discard(name)
    outcome.keyring = sorted(keyring)
    return outcome


def _server_pair(
    ctx: StepContext,
    names: tuple[str, ...],
    file: Path,
    key_entry: str,
    ca_cert: x509.Certificate,
) -> tuple[x509.Certificate | None, pki.Pair | None]:
    """The certificate on disk and its key, when still good for these names under this CA."""
    pem = _read(file)
    if pem is None:
        return None, None
    try:
        certificate = pki.load_certificate(pem, what=str(file))
    except pki.PkiError:
        return None, None
    if not _usable(certificate, ca_cert, names):
        return None, None
    key_pem = _fetch(key_entry, ctx)
    if key_pem is None:
        return certificate, None
    try:
        pair = pki.Pair(pki.load_key(key_pem, what=f"keyring entry {key_entry}"), certificate)
        pki.check_pair(pair, what=str(file))
    except pki.PkiError as exc:
        raise StepError(
            f"{exc} (keyring entry {key_entry}): refusing to import it — ACM would reject the pair. Delete "
            f"{file} to make a new certificate and key"
        ) from None
    return certificate, pair


def _internal_certificate(
    ctx: StepContext,
    entry: Internal,
    store: Store,
    ca_cert: x509.Certificate,
    ca: pki.Pair | None,
    writes: _Writes,
) -> tuple[list[dict[str, Any]], str]:
    """Facts per region, and the keyring entry of the key when there is one."""
    file, key_entry = store.server_file(entry.slug), store.server_key(entry.slug)
    certificate, pair = _server_pair(ctx, entry.names, file, key_entry, ca_cert)
    clients = {region: ctx.clients("acm", region) for region in entry.regions}
    present: dict[str, str | None] = {}
    try:
        if certificate is not None:
            present = {region: _imported(clients[region], certificate) for region in entry.regions}
    except AwsAccessError as exc:
        raise StepError(str(exc)) from None
    if certificate is None or (pair is None and not all(present.values())):
        pair = pki.make_server(_need_ca(ca, store), entry.names, organisation=ORGANISATION, days=825)
        certificate = pair.certificate
        writes.keyring[key_entry] = pair.key_pem
        writes.files[file] = (pair.certificate_pem.encode("ascii"), 0o644)
        present = {}
        ctx.progress(f"made a certificate for {', '.join(entry.names)}")
    problems = pki.chain_problems(certificate, ca_cert)
    if problems:
        raise StepError(f"{file} does not verify against {store.ca_file}: {'; '.join(problems)}")
    facts = []
    for region in entry.regions:
        ctx.check_cancel()
        arn = present.get(region)
        reused = arn is not None
        if arn is None:
            assert pair is not None
            pki.check_pair(pair, what=str(file))  # ACM refuses a mismatch; the emulator would not
            try:
                arn = _import(clients[region], pair, ca_cert)
            except AwsAccessError as exc:
                raise StepError(
                    f"{exc} (certificate for {', '.join(entry.names)} in {region}; nothing was written)"
                ) from None
            ctx.progress(f"imported {', '.join(entry.names)} into ACM in {region}: {arn}")
        facts.append(
            {
                "names": list(entry.names),
                "region": region,
                "arn": arn,
                "expires": pki.expiry(certificate),
                "file": str(file),
                "units": list(entry.units),
                "reused": reused,
            }
        )
    return facts, key_entry if pair is not None else ""


def _imported(client: Any, certificate: x509.Certificate) -> str | None:
    """The ARN where exactly this certificate is already imported, if any."""
    common = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    domain = str(common[0].value) if common else ""
    for candidate in acm.find_imported(client, domain):
        pem = acm.certificate_pem(client, candidate.arn)
        if pem and pki.load_certificate(pem, what=candidate.arn) == certificate:
            return candidate.arn
    return None


def _import(client: Any, pair: pki.Pair, ca_cert: x509.Certificate) -> str:
    """Import; over an earlier refarch-tui import of the same domain (a rotation keeps the ARN), never over
    a certificate someone else imported."""
    common = pair.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    domain = str(common[0].value) if common else ""
    ours = next((c for c in acm.find_imported(client, domain) if acm.created_by_refarch(client, c.arn)), None)
    return acm.import_certificate(
        client,
        certificate=pair.certificate_pem,
        private_key=pair.key_pem,
        chain=pki.certificate_pem(ca_cert),
        arn=ours.arn if ours else None,
    )


def _java(
    ctx: StepContext,
    internal: InternalPlan,
    store: Store,
    ca_cert: x509.Certificate,
    ca: pki.Pair | None,
    writes: _Writes,
) -> dict[str, Any]:
    password = _fetch(store.store_password, ctx)
    current = _current_java(store, password, ca_cert, internal.java)
    if current is not None and password is not None:
        expires, reused = pki.expiry(current), True
    else:
        if password is None:
            password = secrets.generate_password(40)
            writes.keyring[store.store_password] = password
        app = pki.make_server(_need_ca(ca, store), internal.java, organisation=ORGANISATION, days=825)
        keystore = pki.java_keystore(app, ca_cert, password=password, alias=JAVA_ALIAS)
        truststore = pki.java_truststore(ca_cert, password=password, alias=TRUST_ALIAS)
        check = pki.load_store(keystore, password)  # what Java will read back
        if check.key is None or check.cert is None or not pki.key_matches(check.cert.certificate, app.key):
            raise StepError(
                "the Java keystore did not read back with its key and certificate; nothing was written"
            )
        writes.files[store.keystore] = (keystore, 0o600)
        writes.files[store.truststore] = (truststore, 0o644)
        expires, reused = pki.expiry(app.certificate), False
        ctx.progress(f"made the Java keystore and truststore for {', '.join(internal.java)}")
    result: dict[str, Any] = {
        "names": list(internal.java),
        "keystore": str(store.keystore),
        "truststore": str(store.truststore),
        "password_entry": store.store_password,
        "expires": expires,
        "reused": reused,
    }
    if internal.secrets_manager:
        result["secrets_manager"] = _secrets_manager(ctx, password)
    return result


def _current_java(
    store: Store, password: str | None, ca_cert: x509.Certificate, names: tuple[str, ...]
) -> x509.Certificate | None:
    """The keystore's certificate when both stores open with the password and still fit; else None."""
    if password is None or not store.keystore.is_file() or not store.truststore.is_file():
        return None
    try:
        keys = pki.load_store(store.keystore.read_bytes(), password)
        trusted = pki.load_store(store.truststore.read_bytes(), password)
    except (pki.PkiError, OSError):
        return None
    if keys.cert is None or keys.key is None or not _usable(keys.cert.certificate, ca_cert, names):
        return None
    if [c.certificate for c in trusted.additional_certs] != [ca_cert]:
        return None
    return keys.cert.certificate


def _secrets_manager(ctx: StepContext, password: str) -> str:
    name = f"refarch-tui/{ctx.account}/java-store-password"
    client = ctx.clients("secretsmanager", ctx.region)
    try:
        try:
            response = client.put_secret_value(SecretId=name, SecretString=password)
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            response = client.create_secret(
                Name=name,
                SecretString=password,
                Description="Password of the Java keystore and truststore made by refarch-tui",
            )
    except Exception as exc:
        raise StepError(f"could not keep the store password in Secrets Manager: {explain(exc)}") from None
    return str(response["ARN"])


def _persist(ctx: StepContext, writes: _Writes) -> None:
    """Keyring first (a file without its key or password would be useless), then the files, atomically."""
    for entry, value in writes.keyring.items():
        try:
            secrets.store(entry, value, allow_plaintext=ctx.allow_plaintext_keyring)
        except secrets.KeyringError as exc:
            raise StepError(str(exc)) from None
    for path, (data, mode) in writes.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        if path.suffix == ".pem":
            atomic_write_text(path, data.decode("ascii"), mode=mode)
        else:
            atomic_write_bytes(path, data, mode=mode)

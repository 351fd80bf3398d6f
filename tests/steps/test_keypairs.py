"""The EC2 key pairs step against the emulator: generated locally, imported (never downloaded), private
keys encrypted with a passphrase from the keyring, mode 0400 in a 0700 directory, reuse only when the public
half matches, never an overwritten key file, edits per unit and region, evidence that verify re-checks."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from refarch_tui import secrets
from refarch_tui.state import Status
from refarch_tui.steps import keypairs, resume, runner, sshkeys
from refarch_tui.steps.contract import StepContext
from tests.steps.conftest import MakeCtx

OPENVPN = "mgmt/openvpn-server/terragrunt.hcl"
ECS = "services/ecs-cluster/terragrunt.hcl"


def run(ctx: StepContext, **answers: object) -> runner.StepOutcome:
    return runner.run_step(ctx, "keypairs", answers, accept=runner.accept_all)


def pairs(ctx: StepContext, region: str) -> dict[str, str]:
    found = ctx.clients("ec2", region).describe_key_pairs(IncludePublicKey=True)["KeyPairs"]
    return {p["KeyName"]: sshkeys.normalise_public(p["PublicKey"]) for p in found}


def test_dev_gets_two_encrypted_keys_imported_and_written_into_the_right_units(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    outcome = run(ctx)
    assert outcome.status is Status.DONE, outcome.message
    key_dir = ctx.workspace.directory / "keys" / "dev"
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for name in ("dev-openvpn", "dev-services"):
        path = key_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o400
        with pytest.raises(TypeError, match="password-protected"):
            serialization.load_ssh_private_key(path.read_bytes(), password=None)
        passphrase = secrets.fetch(keypairs.keyring_entry(ctx, name))
        assert passphrase and len(passphrase) >= 32
        private = serialization.load_ssh_private_key(path.read_bytes(), password=passphrase.encode())
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        public = sshkeys.normalise_public((key_dir / f"{name}.pub").read_text())
        assert pairs(ctx, "us-east-1")[name] == public
        if shutil.which("ssh-keygen"):
            derived = subprocess.run(
                ["ssh-keygen", "-y", "-P", passphrase, "-f", str(path)],
                capture_output=True,
                text=True,
                check=True,
                env={"PATH": os.environ["PATH"]},
            ).stdout
            assert sshkeys.normalise_public(derived) == public
    live = ctx.live_root / "dev" / "us-east-1"
    assert 'keypair_name             = "dev-openvpn"' in (live / OPENVPN).read_text()
    assert 'cluster_instance_keypair_name = "dev-services"' in (live / ECS).read_text()
    assert {(c.file, c.key, c.new) for c in outcome.changes} == {
        (f"dev/us-east-1/{OPENVPN}", "keypair_name", "dev-openvpn"),
        (f"dev/us-east-1/{ECS}", "cluster_instance_keypair_name", "dev-services"),
    }
    record = ctx.state.record("keypairs", "dev")
    assert record.facts["key_pairs"] == {"openvpn": "dev-openvpn", "services": "dev-services"}
    assert {(p["name"], p["region"]) for p in record.evidence["key_pairs"]} == {
        ("dev-openvpn", "us-east-1"),
        ("dev-services", "us-east-1"),
    }
    assert all(p["fingerprint"].startswith("SHA256:") for p in record.evidence["key_pairs"])
    assert {f["mode"] for f in record.evidence["files"]} == {"0400"}
    assert len(record.evidence["hcl"]) == 2


def test_each_unit_gets_the_key_of_its_own_region_and_openvpn_only_where_it_runs(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("prod")
    assert run(ctx).status is Status.DONE
    assert set(pairs(ctx, "us-east-1")) == {"prod-openvpn", "prod-services"}
    assert set(pairs(ctx, "us-west-2")) == {"prod-services"}
    west = (ctx.live_root / "prod" / "us-west-2" / ECS).read_text()
    assert 'cluster_instance_keypair_name = "prod-services"' in west
    # the same local key serves both regions
    assert pairs(ctx, "us-east-1")["prod-services"] == pairs(ctx, "us-west-2")["prod-services"]
    shared = make_ctx("shared-services")
    assert run(shared).status is Status.DONE
    jenkins = (shared.live_root / "shared-services/us-east-1/mgmt/jenkins/terragrunt.hcl").read_text()
    assert 'keypair_name      = "shared-services-services"' in jenkins


def test_rsa_4096_typed_passphrase_and_other_names(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx("stage")
    typed = "a typed passphrase, long enough"
    outcome = run(
        ctx,
        key_type="rsa-4096",
        passphrase=typed,
        openvpn_key_name="stage-vpn",
        services_key_name="{account}-ops",
        key_dir=str(tmp_path / "my-keys"),
    )
    assert outcome.status is Status.DONE, outcome.message
    private = serialization.load_ssh_private_key(
        (tmp_path / "my-keys" / "stage-ops").read_bytes(), password=typed.encode()
    )
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 4096
    assert set(pairs(ctx, "us-east-1")) == {"stage-vpn", "stage-ops"}
    assert secrets.REDACTED in secrets.redact(typed)


def test_a_key_pair_in_aws_without_its_local_key_is_never_reused(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    material = other.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    ctx.clients("ec2", "us-east-1").import_key_pair(KeyName="dev-services", PublicKeyMaterial=material)
    outcome = run(ctx)
    assert outcome.status is Status.FAILED
    assert "dev-services already exists in us-east-1" in outcome.message
    assert "Choose another services_key_name" in outcome.message
    assert not (ctx.workspace.directory / "keys" / "dev" / "dev-openvpn").exists()  # nothing half-done
    # with a local key whose public half differs, it stops too (and the file stays as it is)
    run(make_ctx("dev"), services_key_name="dev-other")
    local = ctx.workspace.directory / "keys" / "dev" / "dev-other"
    before = local.read_bytes()
    ctx.clients("ec2", "us-east-1").delete_key_pair(KeyName="dev-other")
    ctx.clients("ec2", "us-east-1").import_key_pair(KeyName="dev-other", PublicKeyMaterial=material)
    outcome = run(make_ctx("dev"), services_key_name="dev-other")
    assert outcome.status is Status.FAILED and "does not match the local key" in outcome.message
    assert local.read_bytes() == before


def test_a_local_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text("mine")
    with pytest.raises(sshkeys.KeyFileError, match="never overwrites"):
        sshkeys.generate(path, "ed25519", "passphrase-123")
    assert path.read_text() == "mine"


def test_resume_a_deleted_key_pair_goes_stale_and_running_again_repairs_it(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("dev")
    assert run(ctx).status is Status.DONE
    ctx.clients("ec2", "us-east-1").delete_key_pair(KeyName="dev-services")
    [checked] = resume.verify_workspace(ctx.workspace, ctx.state, make_ctx)
    assert checked.status is Status.STALE
    assert checked.reason == "key pair dev-services no longer exists in us-east-1"
    assert ctx.state.record("keypairs", "dev").message == checked.reason
    repaired = run(make_ctx("dev"))
    assert repaired.status is Status.DONE and repaired.changes == []
    assert "dev-services" in pairs(ctx, "us-east-1")
    [checked] = resume.verify_workspace(ctx.workspace, ctx.state, make_ctx)
    assert checked.status is Status.DONE

    key = ctx.workspace.directory / "keys" / "dev" / "dev-openvpn"
    key.chmod(0o644)
    assert (
        "has mode 0644, not 0400"
        in keypairs.verify(make_ctx("dev"), ctx.state.record("keypairs", "dev")).reason
    )
    key.chmod(0o400)
    unit = ctx.live_root / "dev" / "us-east-1" / ECS
    unit.write_text(unit.read_text().replace('"dev-services"', '"by-hand"'))
    assert keypairs.verify(make_ctx("dev"), ctx.state.record("keypairs", "dev")).reason == (
        f"cluster_instance_keypair_name in dev/us-east-1/{ECS} was changed by hand"
    )

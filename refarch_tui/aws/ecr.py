"""ECR for the docker_images step: a repository (scan on push, tag mutability as asked), a repository policy
that lets the deploying accounts pull, an authorization token (registered with the redactor at once), a
simulated push for the sandbox (PutImage of a small manifest), and the checks `verify` needs."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from refarch_tui import secrets
from refarch_tui.aws.errors import AwsAccessError, ErrorKind
from refarch_tui.aws.errors import client_error_code as _code

PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
POLICY_SID = "refarch-tui-pull"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


class EcrError(AwsAccessError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorKind.OTHER, secrets.redact(message))


def ensure_repository(client: Any, name: str, *, immutable: bool) -> tuple[str, bool]:
    """(repository URI, created) — an existing repository is kept as it is."""
    try:
        found = client.describe_repositories(repositoryNames=[name])["repositories"][0]
        return str(found["repositoryUri"]), False
    except ClientError as exc:
        if _code(exc) != "RepositoryNotFoundException":
            raise EcrError(f"cannot read ECR repository {name}: {exc}") from None
    try:
        created = client.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            tags=[{"Key": "created-by", "Value": "refarch-tui"}],
        )["repository"]
    except ClientError as exc:
        raise EcrError(f"cannot create ECR repository {name}: {exc}") from None
    return str(created["repositoryUri"]), True


def pull_policy(account_ids: Iterable[str]) -> dict[str, Any]:
    principals = sorted({f"arn:aws:iam::{i}:root" for i in account_ids})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": POLICY_SID,
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": list(PULL_ACTIONS),
            }
        ],
    }


def set_pull_policy(client: Any, name: str, account_ids: Sequence[str]) -> dict[str, Any]:
    policy = pull_policy(account_ids)
    try:
        client.set_repository_policy(repositoryName=name, policyText=json.dumps(policy))
    except ClientError as exc:
        raise EcrError(f"cannot set the pull policy of {name}: {exc}") from None
    return policy


def policy_missing(client: Any, name: str, account_ids: Sequence[str]) -> list[str]:
    """The account IDs the repository policy no longer lets pull (all three actions); [] when all can."""
    try:
        text = client.get_repository_policy(repositoryName=name)["policyText"]
    except ClientError:
        return list(account_ids)
    allowed: dict[str, set[str]] = {}
    for statement in json.loads(text).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principals = (statement.get("Principal") or {}).get("AWS", [])
        principals = [principals] if isinstance(principals, str) else principals
        actions = statement.get("Action", [])
        actions = {actions} if isinstance(actions, str) else set(actions)
        for principal in principals:
            account = str(principal).split(":")[4] if str(principal).startswith("arn:") else str(principal)
            allowed.setdefault(account, set()).update(actions)
    return [
        i
        for i in account_ids
        if not (set(PULL_ACTIONS) <= allowed.get(i, set()) or "ecr:*" in allowed.get(i, set()))
    ]


def login_token(client: Any) -> tuple[str, str, str]:
    """(username, password, registry endpoint); the password is registered with the redactor first."""
    try:
        data = client.get_authorization_token()["authorizationData"][0]
    except (ClientError, IndexError, KeyError) as exc:
        raise EcrError(f"cannot get an ECR authorization token: {exc}") from None
    token = str(data["authorizationToken"])
    secrets.register_secret(token)
    username, _, password = base64.b64decode(token).decode("utf-8", "replace").partition(":")
    secrets.register_secret(password)
    return username or "AWS", password, str(data.get("proxyEndpoint", ""))


def simulated_push(client: Any, name: str, tag: str, content_digest: str) -> str:
    """Registers `tag` in the repository with a small manifest (no layers pushed); returns its digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": f"sha256:{content_digest}",
        },
        "layers": [],
    }
    text = json.dumps(manifest, sort_keys=True)
    try:
        image = client.put_image(
            repositoryName=name, imageManifest=text, imageManifestMediaType=MANIFEST_TYPE, imageTag=tag
        )["image"]
    except ClientError as exc:
        if _code(exc) in ("ImageAlreadyExistsException", "ImageTagAlreadyExistsException"):
            return image_digest(client, name, tag) or "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        raise EcrError(f"cannot register {name}:{tag}: {exc}") from None
    return str(image.get("imageId", {}).get("imageDigest", ""))


def image_digest(client: Any, name: str, tag: str) -> str | None:
    """The digest of name:tag, None when ECR has no such image."""
    try:
        details = client.describe_images(repositoryName=name, imageIds=[{"imageTag": tag}])["imageDetails"]
    except ClientError:
        return None
    return str(details[0].get("imageDigest", "")) if details else None

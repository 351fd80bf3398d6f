"""`refarch-tui doctor --json` → "aws": which identity each account resolves to, or the error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from refarch_tui.aws.auth import SETTINGS_KEY, AuthConfig
from refarch_tui.aws.errors import AwsAccessError, explain

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess


def aws_report(access: AwsAccess | None, *, org_check: bool = True) -> dict[str, Any]:
    """Check every account of the workspace (no MFA prompt: accounts needing a code say so) and report."""
    if access is None:
        return {"configured": False, "message": "No workspace open: nothing to check."}
    if SETTINGS_KEY not in access.state.settings and not access.sandbox:
        return {"configured": False, "message": "AWS access not set up yet: open the Authenticate screen."}
    if access.sandbox:
        AuthConfig.use_sandbox_default(access.state.settings)
    config = AuthConfig.from_settings(access.state.settings.get(SETTINGS_KEY))
    prompt = access.mfa_prompt
    access.set_mfa_prompt(None)
    try:
        results = access.check_all()
        organization: dict[str, Any] | None = None
        if org_check:
            try:
                organization = access.org_cross_check().to_json()
            except Exception as exc:  # reported, never raised: doctor always answers
                organization = {"checked": False, "message": explain(exc).message}
    finally:
        access.set_mfa_prompt(prompt)
    return {
        "configured": True,
        "mode": "sandbox" if access.sandbox else "real",
        "method": config.method.value,
        "profile": config.profile,
        "assume_roles": config.assume_roles,
        "endpoint_url": access.endpoint_url,
        "accounts": {name: result.to_json() for name, result in results.items()},
        "organization": organization,
    }


def aws_report_for_workspace(
    directory: Path | None = None, *, org_check: bool = True, endpoint_url: str | None = None
) -> dict[str, Any]:
    """The "aws" section for a workspace directory (default: the last one opened), without writing to it.

    `endpoint_url` sends a real-mode workspace's calls to another endpoint (tests, AWS-compatible emulators);
    a sandbox workspace always uses its own emulator."""
    from refarch_tui.aws import emulator
    from refarch_tui.aws.access import AwsAccess, sandbox_organization_keys
    from refarch_tui.aws.keys import AccessKeys, workspace_key_id
    from refarch_tui.state import Mode, StateError, Workspace, last_workspace

    directory = directory or last_workspace()
    if directory is None:
        return aws_report(None)
    workspace = Workspace(directory)
    try:
        state = workspace.load()
    except StateError as exc:
        return {"configured": False, "message": str(exc)}
    endpoint = endpoint_url
    keys_kwargs: dict[str, Any] = {}
    if state.mode is Mode.SANDBOX:
        info = emulator.read_record(workspace.directory)
        if info is None or not emulator.answers(info.endpoint):
            return {
                "configured": False,
                "mode": "sandbox",
                "message": "The sandbox AWS emulator is not running; `refarch-tui sandbox` starts it.",
            }
        endpoint = info.endpoint
        keys_kwargs["sandbox_keys"] = AccessKeys(info.access_key_id, info.secret_access_key)
        keys_kwargs["organization_keys"] = sandbox_organization_keys(info.secret_access_key)
    try:
        access = AwsAccess(
            state, workspace_id=workspace_key_id(workspace.directory), endpoint_url=endpoint, **keys_kwargs
        )
    except AwsAccessError as exc:
        return {"configured": False, "message": exc.message}
    return aws_report(access, org_check=org_check)

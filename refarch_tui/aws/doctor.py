"""`refarch-tui doctor --json` → "aws": which identity each account resolves to, or the error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from refarch_tui.aws.auth import SETTINGS_KEY, AuthConfig
from refarch_tui.aws.errors import explain

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess


def aws_report(access: AwsAccess | None, *, org_check: bool = True) -> dict[str, Any]:
    """Check every account of the workspace (no MFA prompt: accounts needing a code say so) and report."""
    if access is None:
        return {"configured": False, "message": "No workspace open: nothing to check."}
    if SETTINGS_KEY not in access.state.settings and not access.sandbox:
        return {"configured": False, "message": "AWS access not set up yet: open the Authenticate screen."}
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

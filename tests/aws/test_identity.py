"""Identity per account through assumed roles, blocking on mismatch, parallel checks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod, IdentityStatus, default_role_arn

from .conftest import ACCESS_KEY, ACCOUNTS, SECRET_KEY


def test_sandbox_assume_role_into_all_five_accounts(sandbox_access: AwsAccess) -> None:
    results = sandbox_access.check_all()
    assert list(results) == list(ACCOUNTS)
    for name, account_id in ACCOUNTS.items():
        result = results[name]
        assert result.status is IdentityStatus.OK, result.explanation
        assert result.reached_id == account_id
        assert result.arn is not None
        assert f"::{account_id}:assumed-role/allow-full-access-from-other-accounts/" in result.arn
        left = result.time_left()
        assert left is not None and left.total_seconds() > 50 * 60
        assert not sandbox_access.is_blocked(name)

"""MFA codes: asked through a callback (the screen shows a dialog), format-checked before AWS sees them."""

from __future__ import annotations

import re
from collections.abc import Callable

from refarch_tui.aws.errors import AwsAccessError, ErrorKind

MFA_CODE = re.compile(r"^\d{6}$")

# Receives the question to show (it names the MFA device); returns the code typed, or "" to cancel.
MfaPrompt = Callable[[str], str]


def is_valid_code(code: str) -> bool:
    return bool(MFA_CODE.match(code))


def ask_code(prompt: MfaPrompt | None, serial: str, *, attempts: int = 3, reason: str = "") -> str:
    """Ask for a 6-digit code until one has the right shape; AWS is never called with a malformed code."""
    if prompt is None:
        raise AwsAccessError(
            ErrorKind.MFA_REQUIRED,
            f"An MFA code for {serial} is needed; run the Authenticate screen to enter it.",
        )
    question = f"{reason + ' ' if reason else ''}Enter the 6-digit MFA code for {serial}:"
    for _ in range(attempts):
        code = (prompt(question) or "").strip()
        if not code:
            raise AwsAccessError(
                ErrorKind.MFA_CANCELLED, "MFA code entry was cancelled; nothing was checked."
            )
        if is_valid_code(code):
            return code
        question = f"An MFA code is exactly 6 digits. Enter the code for {serial}:"
    raise AwsAccessError(ErrorKind.MFA_INVALID, "No valid 6-digit MFA code was entered.")

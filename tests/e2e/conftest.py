from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def stop_sandbox_after() -> Iterator[None]:
    yield
    subprocess.run(
        [sys.executable, "-m", "refarch_tui", "sandbox", "--stop"],
        capture_output=True,
        timeout=60,
        env={**os.environ},
    )

"""The environment of a probe (`terragrunt --version`, `packer version`, `docker --version`, ...).

A probe only needs to find and start the binary: it gets PATH, HOME, LANG and TMPDIR from the parent and
nothing else, so credentials, profiles and settings of the operator's shell (AWS_*, TG_*, TF_VAR_*, tokens)
never reach whatever binary happens to be first on PATH.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PROBE_VARIABLES = ("PATH", "HOME", "LANG", "TMPDIR")


def probe_env(base: Mapping[str, str] = os.environ) -> dict[str, str]:
    return {name: base[name] for name in PROBE_VARIABLES if name in base}

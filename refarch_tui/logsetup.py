"""The app's log file: every record passes through the secrets redactor before it is written."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from refarch_tui import paths, secrets
from refarch_tui.atomic import open_private_append

LOG_FILE_NAME = "refarch-tui.log"


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return secrets.redact(super().format(record))


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def configure(*, debug: bool = False) -> Path:
    """Send the `refarch_tui` loggers (and warnings from libraries) to the log file; return its path."""
    path = log_file()
    os.close(open_private_append(path))  # 0600 in a 0700 folder before the handler opens it
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, logging.FileHandler) and Path(existing.baseFilename) == path:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("refarch_tui").setLevel(logging.DEBUG if debug else logging.INFO)
    if debug:
        root.setLevel(logging.DEBUG)
        for noisy in ("botocore", "urllib3", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    return path

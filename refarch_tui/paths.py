"""Where the product keeps its files: workspaces, caches, logs, and its bundled assets."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "refarch-tui"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def workspaces_dir() -> Path:
    return data_dir() / "workspaces"


def sandbox_workspace_dir() -> Path:
    return workspaces_dir() / "sandbox"


def last_workspace_file() -> Path:
    return data_dir() / "last-workspace"


def assets_dir() -> Path:
    """The bundled assets: inside the package when installed, beside it in a source checkout."""
    override = os.environ.get("REFARCH_TUI_ASSETS")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    installed = here / "assets"
    if installed.is_dir():
        return installed
    return here.parent / "assets"


def sample_live_repo() -> Path:
    return assets_dir() / "sample-live"


def sample_modules_repo() -> Path:
    return assets_dir() / "sample-modules"


def sample_apps_dir() -> Path:
    """The two sample apps (sample-app-backend, sample-app-frontend), a Dockerfile each."""
    return assets_dir() / "sample-apps"

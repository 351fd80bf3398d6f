"""`pip install .` (not editable) ships the app with its assets and screens."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("refarch_tui-*.whl")
    return built


def test_wheel_contains_assets_and_screens(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "refarch_tui/assets/app.tcss" in names
    assert "screens/home.py" in names
    assert any(
        n.startswith("refarch_tui/assets/sample-live/dev/") and n.endswith("terragrunt.hcl") for n in names
    )
    assert any(n.startswith("refarch_tui/assets/sample-modules/") and n.endswith(".json") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_installed_copy_runs_and_finds_its_assets(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import refarch_tui, refarch_tui.paths as p, screens.home; "
        "print(refarch_tui.__file__); print(p.assets_dir()); print((p.assets_dir() / 'app.tcss').is_file()); "
        "print(p.sample_live_repo().is_dir())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    module_file, assets, tcss_ok, sample_ok = result.stdout.split()
    assert module_file.startswith(str(target))
    assert assets.startswith(str(target))
    assert tcss_ok == "True" and sample_ok == "True"
    version = subprocess.run(
        [sys.executable, "-m", "refarch_tui", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert version.returncode == 0 and version.stdout.startswith("refarch-tui")


def test_wheel_ships_prebuilt_parser_tables(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "refarch_tui/live/_tables/hcl2-grammar-nopos.tables" in names
    assert "refarch_tui/live/_tables/hcl2-grammar-pos.tables" in names


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_never_builds_parser_tables(tmp_path: Path) -> None:
    """`pip install .` (isolated build, non-editable) ships tables the first command loads as they are."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = dict(os.environ)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # the project itself without its (heavy) runtime dependencies; the build still resolves its own
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True, timeout=900, env=env, cwd=tmp_path)
    subprocess.run([*pip, "python-hcl2>=8.1,<9", "platformdirs>=4,<5"], check=True, timeout=900, env=env)
    probe = (
        "import lark\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('the parser tables were built on first use')\n"
        "lark.Lark._build_parser = refuse\n"
        "from refarch_tui.live import hclparse, parser_tables\n"
        "assert parser_tables.SHIPPED_DIR.is_dir(), parser_tables.SHIPPED_DIR\n"
        "summary = hclparse.summarise('terraform {\\n  source = \"x\"\\n}\\n')\n"
        "assert summary.body is not None, summary.error\n"
        "assert hclparse.parse_tree('a = 1\\n').children[0].meta.line == 1\n"
        "print(parser_tables.__file__)\n"
    )
    result = subprocess.run(
        [str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip().startswith(str(venv))

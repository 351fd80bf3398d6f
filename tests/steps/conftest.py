"""Fixtures for step tests: a sandbox-mode workspace over a copy of the sample live repo, AWS access pointed
at the per-test moto endpoint with every account's identity confirmed, and a `make_ctx(account)` factory."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from refarch_tui.aws.access import AwsAccess
from refarch_tui.aws.auth import AuthConfig, AuthMethod
from refarch_tui.state import Account, Mode, Workspace, WorkspaceState
from refarch_tui.steps import services
from refarch_tui.steps.contract import StepContext
from tests.aws.conftest import ACCOUNTS

REPO = Path(__file__).resolve().parents[2]

MakeCtx = Callable[..., StepContext]


@pytest.fixture
def step_workspace(tmp_path: Path) -> tuple[Workspace, WorkspaceState]:
    workspace = Workspace(tmp_path / "workspace")
    workspace.directory.mkdir(parents=True)
    live = workspace.directory / "live"
    shutil.copytree(REPO / "assets" / "sample-live", live)
    shutil.copytree(REPO / "assets" / "sample-modules", workspace.directory / "modules")
    state = WorkspaceState(
        live_dir=str(live),
        mode=Mode.SANDBOX,
        accounts=[Account(name, account_id) for name, account_id in ACCOUNTS.items()],
        regions=["us-east-1", "us-west-2"],
    )
    workspace.save(state)
    return workspace, state


@pytest.fixture
def step_access(moto: str, step_workspace: tuple[Workspace, WorkspaceState]) -> AwsAccess:
    workspace, state = step_workspace
    access = AwsAccess(state, workspace=workspace, endpoint_url=moto)
    access.configure(AuthConfig(method=AuthMethod.KEYS, assume_roles=True))
    results = access.check_all()
    assert all(result.ok for result in results.values()), results
    return access


@pytest.fixture
def make_ctx(step_workspace: tuple[Workspace, WorkspaceState], step_access: AwsAccess) -> MakeCtx:
    workspace, state = step_workspace

    def make(account: str, **kwargs: object) -> StepContext:
        return services.context_for(workspace, state, step_access, account, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="module")
def module_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One sandbox emulator for a test module (starting one takes seconds); `emulated_workspace` resets it."""
    from refarch_tui.aws import emulator

    home = tmp_path_factory.mktemp("emulator")
    emulator.start(home)
    try:
        emulator.wait_ready(home)
        yield home
    finally:
        emulator.stop(home)


@pytest.fixture
def emulated_workspace(tmp_path: Path, module_emulator: Path) -> tuple[Workspace, WorkspaceState]:
    """A sandbox-mode workspace over a copy of the sample repo whose emulator record points at the module's
    (reset) emulator, as `refarch-tui sandbox` would leave it."""
    import urllib.request

    from refarch_tui.aws import emulator

    info = emulator.read_record(module_emulator)
    assert info is not None
    urllib.request.urlopen(urllib.request.Request(f"{info.endpoint}/moto-api/reset", method="POST")).read()
    workspace = Workspace(tmp_path / "cli-workspace")
    workspace.directory.mkdir(parents=True)
    shutil.copy(emulator.record_path(module_emulator), emulator.record_path(workspace.directory))
    live = workspace.directory / "live"
    shutil.copytree(REPO / "assets" / "sample-live", live)
    shutil.copytree(REPO / "assets" / "sample-modules", workspace.directory / "modules")
    state = WorkspaceState(
        live_dir=str(live),
        mode=Mode.SANDBOX,
        accounts=[Account(name, account_id) for name, account_id in ACCOUNTS.items()],
        regions=["us-east-1", "us-west-2"],
    )
    workspace.save(state)
    return workspace, state


from tests.run.conftest import fake_tg  # noqa: E402,F401  (the fake terragrunt, for steps read by the runner)


def add_zone(ctx: StepContext, name: str, comment: str = "") -> str:
    """A public hosted zone in the emulator, as if created outside refarch-tui; its bare ID."""
    import uuid

    response = ctx.clients("route53").create_hosted_zone(
        Name=name, CallerReference=uuid.uuid4().hex, HostedZoneConfig={"Comment": comment}
    )
    return str(response["HostedZone"]["Id"]).rsplit("/", 1)[-1]


def set_input(ctx: StepContext, unit: str, old: str, new: str) -> None:
    """Change a line of a unit's terragrunt.hcl in the test's copy of the live repo (a hand edit)."""
    path = ctx.live_root / unit / "terragrunt.hcl"
    text = path.read_text()
    assert old in text, (unit, old)
    path.write_text(text.replace(old, new, 1))
    ctx._tree = None


@pytest.fixture
def sandbox_dir() -> Iterator[Path]:
    """The sandbox a `refarch-tui … --sandbox` command creates: fresh (the test's own data directory), its
    emulator stopped afterwards."""
    from refarch_tui import paths
    from refarch_tui.aws import emulator

    directory = paths.sandbox_workspace_dir()
    assert not directory.exists()
    try:
        yield directory
    finally:
        emulator.stop(directory)

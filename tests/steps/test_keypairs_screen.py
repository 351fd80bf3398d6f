"""The key pairs screen, keyboard only: from the home screen through the preview, Run and the Review edits
dialog to done — then the home cell is done, the apply preflight no longer lists the step, and no
passphrase or private key material is in state, journal, log or HCL. Plus a snapshot of the review."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, Select

from refarch_tui import logsetup, paths, secrets
from refarch_tui.app import make_app
from refarch_tui.run.controller import pending_steps
from refarch_tui.state import Status, Workspace, WorkspaceState
from refarch_tui.steps import keypairs
from screens.dialogs.review_edits import ReviewEditsDialog
from screens.step import StepScreen
from tests.steps.conftest import MakeCtx
from tests.steps.pilot import StepApp, text_of, wait_until


async def test_key_pairs_screen_through_review_edits_to_done(
    emulated_workspace: tuple[Workspace, WorkspaceState],
) -> None:
    workspace, state = emulated_workspace
    app = make_app(workspace, state, log_file=logsetup.configure())
    async with app.run_test(size=(150, 50)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # emulator, identities, resume
        app.screen.query_one(DataTable).move_cursor(row=3, column=3)  # Create EC2 key pairs × dev
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen), what="the key pairs screen")
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert screen.query_one("#answer-openvpn_key_name", Input).value == "dev-openvpn"
        assert screen.query_one("#answer-services_key_name", Input).value == "dev-services"
        assert screen.query_one("#answer-key_type", Select).value == "ed25519"
        await wait_until(pilot, lambda: screen.plan is not None, what="the preview")
        preview = text_of(screen, "#step-preview")
        assert "import key pair dev-services into us-east-1" in preview
        assert "<workspace>/keys/dev/dev-openvpn" in preview
        assert "dev/us-east-1/mgmt/openvpn-server/terragrunt.hcl: keypair_name" in preview

        # a passphrase typed twice differently is refused before anything runs
        screen.query_one("#answer-passphrase", Input).value = "one passphrase typed"
        screen.query_one("#answer-passphrase-again", Input).value = "another passphrase"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "differ" in text_of(screen, "#step-status") and not screen.running
        screen.query_one("#answer-passphrase", Input).value = ""
        screen.query_one("#answer-passphrase-again", Input).value = ""

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="Review edits")
        dialog = app.screen
        assert isinstance(dialog, ReviewEditsDialog)
        assert sorted(e.label for e in dialog.edits) == [
            "dev/us-east-1/mgmt/openvpn-server/terragrunt.hcl",
            "dev/us-east-1/services/ecs-cluster/terragrunt.hcl",
        ]
        await pilot.press("y")  # apply the selected (all are ticked)
        await wait_until(pilot, lambda: not screen.running, what="the run to finish")
        assert app.screen is screen
        status = text_of(screen, "#step-status")
        assert status.startswith("done") and "DONE" in status, status
        assert "applied" in text_of(screen, "#step-result")
        await pilot.press("escape")
        await pilot.pause()
        assert str(app.screen.query_one(DataTable).get_cell("keypairs", "dev")) == "done"

    assert state.record("keypairs", "dev").status is Status.DONE
    assert not any("key pairs" in step for step in pending_steps(state, "dev"))
    material = []
    for name in ("dev-openvpn", "dev-services"):
        passphrase = secrets.fetch(keypairs.keyring_entry_for(workspace.directory, "dev", name))
        assert passphrase
        body = (workspace.directory / "keys" / "dev" / name).read_text().splitlines()[1:-1]
        material += [passphrase, max(body, key=len)]
    keys_dir = workspace.directory / "keys"
    files = [
        p
        for root in (workspace.directory, paths.log_dir())
        for p in root.rglob("*")
        if p.is_file() and keys_dir not in p.parents
    ]
    assert any(p.name == "state.json" for p in files) and any(p.name == "terragrunt.hcl" for p in files)
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not [m for m in material if m in text], f"key material in {path}"


def test_key_pairs_review_snapshot(
    snap_compare: Any, make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    app = StepApp(make_ctx, step_workspace[1], step="keypairs", account="dev", account_id="368294012756")

    async def open_review(pilot: Any) -> None:
        await wait_until(pilot, lambda: getattr(app.screen, "plan", None) is not None, what="the preview")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewEditsDialog), what="Review edits")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 45), run_before=open_review)


def test_key_pairs_screen_snapshot_with_its_preview(
    snap_compare: Any, make_ctx: MakeCtx, step_workspace: tuple[Workspace, WorkspaceState]
) -> None:
    app = StepApp(make_ctx, step_workspace[1], step="keypairs", account="dev", account_id="368294012756")

    async def preview(pilot: Any) -> None:
        await wait_until(pilot, lambda: getattr(app.screen, "plan", None) is not None, what="the preview")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 50), run_before=preview)

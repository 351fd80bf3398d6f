"""Plain mode's destructive entries through a pty: teardown and sandbox reset always ask for the typed name
(plain mode has no --yes or --confirm), a wrong name changes nothing, Ctrl-C at the typed prompt leaves the
state as it was and says how to resume."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from refarch_tui import cli, paths, sandbox
from refarch_tui.state import Status, Workspace, WorkspaceState
from tests.e2e.plain_driver import PlainDriver, menu_number
from tests.run.helpers import calls

MENU_END = r"Quit \(progress is saved\)"
OPENVPN_UNIT = Path("dev") / "us-east-1" / "mgmt" / "openvpn-server" / "terragrunt.hcl"


def _live_file(relative: Path) -> str:
    return (paths.sandbox_workspace_dir() / "live" / relative).read_text(encoding="utf-8")


def _start_teardown(plain: PlainDriver, account: str, action_label: str) -> None:
    menu = plain.expect(MENU_END)
    plain.choose(menu_number(menu, "Tear down an account"))
    menu = plain.expect(r"\d+\) security")
    plain.choose(menu_number(menu, account))
    menu = plain.expect(r"Destroy, wave by wave")
    plain.choose(menu_number(menu, action_label))


def test_plain_mode_has_no_way_around_the_typed_name() -> None:
    for flag in ("--yes", "--confirm"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["plain", "--sandbox", flag, "dev"])


def test_teardown_asks_for_the_typed_name_and_a_wrong_one_runs_nothing(
    stop_sandbox_after: None, fake_terragrunt: Path
) -> None:
    plain = PlainDriver("--sandbox")
    try:
        plain.expect("What next")
        hcl_before = _live_file(OPENVPN_UNIT)
        _start_teardown(plain, "dev", "Destroy, wave by wave")
        seen = plain.expect(r"Type the account name \(dev\) to confirm")
        # the identity is printed before anything could change AWS, then the plan and the phase-1 diffs
        assert "Account: dev, ID 368294012756 (SANDBOX" in seen
        assert "Identity: arn:aws:sts::368294012756:" in seen
        assert "Destroy order, dependents first" in seen
        assert re.search(r"^\+\s+force_destroy\s+= true\r?$", seen, re.M), seen
        plain.enter("Dev")  # another case is not the name
        seen = plain.expect(r"finished with exit code \d+")
        assert "not confirmed: 'Dev' is not 'dev'. Nothing ran." in seen
        assert "finished with exit code 2" in seen
        assert calls(fake_terragrunt) == []
        assert _live_file(OPENVPN_UNIT) == hcl_before
        assert not Workspace(paths.sandbox_workspace_dir()).runs_dir.exists()

        # the name typed at both phases: phase 1 edits and applies, phase 2 destroys wave by wave
        _start_teardown(plain, "dev", "Destroy, wave by wave")
        plain.expect(r"Phase 1 edits and applies units in dev\. Type the account name \(dev\)")
        plain.enter("dev")
        seen = plain.expect(r"Phase 2 destroys \d+ unit\(s\) of dev")
        assert "edited dev/us-east-1/mgmt/openvpn-server/terragrunt.hcl (backup" in seen
        assert "run succeeded" in seen  # phase 1's apply, the lines `apply --no-tui` prints
        plain.expect(r"to confirm, anything else stops:")
        plain.enter("dev")
        seen = plain.expect(r"Teardown \(destroy\) of dev finished with exit code \d+\.")
        assert "Teardown (destroy) of dev finished with exit code 0." in seen
        assert "0 not destroyed" in seen and "teardown report:" in seen
        menu = plain.expect(MENU_END)
        plain.choose(menu_number(menu, "Quit (progress is saved)"))
        assert plain.finish() == 0
    finally:
        plain.close()
    assert "force_destroy" in _live_file(OPENVPN_UNIT)
    destroyed = [c for c in calls(fake_terragrunt) if "destroy" in c.get("argv", [])]
    assert destroyed, calls(fake_terragrunt)


def test_ctrl_c_at_the_typed_teardown_name_changes_nothing_and_says_how_to_resume(
    stop_sandbox_after: None, fake_terragrunt: Path
) -> None:
    plain = PlainDriver("--sandbox")
    try:
        plain.expect("What next")
        state_before = json.loads((paths.sandbox_workspace_dir() / "state.json").read_text())
        hcl_before = _live_file(OPENVPN_UNIT)
        _start_teardown(plain, "dev", "Destroy, wave by wave")
        plain.expect(r"Type the account name \(dev\) to confirm")
        plain.interrupt()
        seen = plain.expect("Resume with: refarch-tui plain --sandbox")
        assert "Teardown of dev stopped at a confirmation; nothing more ran" in seen
        assert "Interrupted. The state is saved" in seen
        assert plain.finish() == 130
    finally:
        plain.close()
    assert json.loads((paths.sandbox_workspace_dir() / "state.json").read_text()) == state_before
    assert _live_file(OPENVPN_UNIT) == hcl_before and calls(fake_terragrunt) == []
    assert not Workspace(paths.sandbox_workspace_dir()).lock_path.exists()


def test_the_sandbox_reset_needs_the_word_typed_then_starts_fresh(stop_sandbox_after: None) -> None:
    workspace, state = sandbox.open_sandbox(start_emulator=False)
    workspace.update_step(state, "keypairs", "dev", Status.DONE, facts={"services": "dev-services"})
    plain = PlainDriver("--sandbox")
    try:
        menu = plain.expect(MENU_END)
        assert "Create EC2 key pairs: shared-services pending, dev done" in menu
        plain.choose(menu_number(menu, "Reset the sandbox"))
        seen = plain.expect(r"Type `sandbox` to confirm")
        assert f"A reset deletes {paths.sandbox_workspace_dir()}" in seen
        plain.enter("dev")
        seen = plain.expect(MENU_END)
        assert "Not reset: 'dev' is not `sandbox`. Nothing was deleted." in seen
        assert workspace.load().record("keypairs", "dev").status is Status.DONE

        plain.choose(menu_number(seen, "Reset the sandbox"))
        plain.expect(r"Type `sandbox` to confirm")
        plain.enter("sandbox")
        seen = plain.expect(MENU_END)
        assert "The sandbox was reset" in seen
        assert "identity dev: arn:aws:sts::368294012756:" in seen  # a fresh emulator, identities again
        assert "Create EC2 key pairs: shared-services pending, dev pending" in seen
        plain.choose(menu_number(seen, "Quit (progress is saved)"))
        assert plain.finish() == 0
    finally:
        plain.close()
    assert workspace.load().record("keypairs", "dev").status is Status.PENDING
    assert not Workspace(paths.sandbox_workspace_dir()).lock_path.exists()


class _Offered:
    """Prompts that record the main menu's entries and quit."""

    def __init__(self) -> None:
        self.menus: list[list[str]] = []

    def choose(self, message: str, choices: list[tuple[str, str]]) -> str:
        self.menus.append([title for _value, title in choices])
        return "quit"


def test_a_real_aws_workspace_offers_teardown_but_no_sandbox_reset(live_copy: Path, tmp_path: Path) -> None:
    from refarch_tui.accounts import discover_accounts
    from refarch_tui.plain import PlainSession
    from refarch_tui.state import Mode

    discovery = discover_accounts(live_copy)
    offered = _Offered()
    for mode, reset_offered in ((Mode.REAL, False), (Mode.SANDBOX, True)):
        workspace = Workspace(tmp_path / f"ws-{mode.value}")
        state = WorkspaceState(
            live_dir=str(live_copy), mode=mode, accounts=discovery.accounts, regions=discovery.regions
        )
        workspace.save(state)
        session = PlainSession(workspace, state, access=None, out=io.StringIO(), prompts=offered)  # type: ignore[arg-type]
        assert session.loop() == 0
        menu = offered.menus[-1]
        assert any(title.startswith("Tear down an account") for title in menu)
        assert any(title.startswith("Reset the sandbox") for title in menu) is reset_offered

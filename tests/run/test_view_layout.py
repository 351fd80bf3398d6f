"""The apply view's layout decisions and wording, computed without Textual (issue 17)."""

from __future__ import annotations

import pytest

from refarch_tui.run import view
from refarch_tui.run.controller import AccountPreflight, Preflight


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((200, 42), view.LaneLayout(3, False)),  # 3 + 2, not 4 + 1
        ((160, 30), view.LaneLayout(3, False)),
        ((120, 22), view.LaneLayout(1, True)),  # 3 rows of 2 would leave each lane a handful of rows
        ((80, 12), view.LaneLayout(1, True)),
    ],
)
def test_five_lanes_sit_side_by_side_in_rows_or_in_tabs_by_the_room_they_get(
    size: tuple[int, int], expected: view.LaneLayout
) -> None:
    assert view.lane_layout(5, *size) == expected


def test_every_lane_that_sits_beside_another_gets_a_readable_width() -> None:
    for count in range(1, 8):
        for width in range(40, 260, 7):
            layout = view.lane_layout(count, width, 60)
            if not layout.tabs and layout.columns > 1:
                assert width // layout.columns >= view.LANE_MIN_WIDTH
    assert view.lane_layout(1, 30, 5) == view.LaneLayout(1, False)  # one lane never needs a tab


def _preflight(*accounts: AccountPreflight) -> Preflight:
    return Preflight("rehearsal", True, None, list(accounts), tree=None)  # type: ignore[arg-type]


def _account(
    name: str, pending: list[str] | None = None, secrets: list[str] | None = None
) -> AccountPreflight:
    return AccountPreflight(name, "111122223333", 3, "us-east-1", secrets or [], [], pending or [])


def test_account_choices_carry_tick_identity_and_warning_each_on_its_own_line() -> None:
    pre = _preflight(
        _account("security"),
        _account("dev", pending=["Build AMIs (pending)"], secrets=["TF_VAR_db_password"]),
        _account("prod"),
    )
    choices = view.account_choices(
        pre,
        identities={"security": "arn:aws:sts::111122223333:assumed-role/x/y (40m left)", "dev": "arn:dev"},
        time_left={"security": "40m", "dev": "12m"},
        blocked={"prod"},
    )
    security, dev, prod = choices
    assert (security.ticked, security.warning) == (True, "")
    assert security.label == "security (111122223333) · 3 units · us-east-1"
    assert security.identity.count("left") == 1  # the summary already says how long the credentials last
    assert dev.ticked is False
    assert dev.identity == "identity arn:dev · credentials 12m left · injects TF_VAR_db_password"
    assert dev.warning.startswith("⚠ 1 step(s) not done — tick to run anyway")
    assert "Build AMIs" in dev.warning
    assert prod.ticked is False and prod.warning.startswith("BLOCKED")
    assert prod.identity == "identity not checked"


def test_the_final_notice_is_quiet_only_when_the_run_succeeded() -> None:
    assert view.outcome_severity("run succeeded: 9 succeeded, 0 failed, 0 skipped") == "information"
    assert view.outcome_severity("run finished with problems: 1 succeeded, 1 failed") == "warning"

"""The output parser on lines in the formats terragrunt 1.x and 0.x really print."""

from __future__ import annotations

from refarch_tui.run import catalog
from refarch_tui.run.parser import OutputParser, Signal

WD = "/live/dev"


def signals(parser: OutputParser, line: str, stream: str = "stderr") -> tuple[str | None, list[Signal]]:
    parsed = parser.feed(line, stream)
    return parsed.unit, [s for s, _ in parsed.signals]


def test_v1_pretty_lines() -> None:
    p = OutputParser(WD, "dev")
    # the docs' quick-start line
    unit, sig = signals(
        p, "08:43:10.716 STDOUT [foo] tofu: Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
    )
    assert unit == "dev/foo" and sig == [Signal.SUCCEEDED]
    unit, sig = signals(p, "08:43:10.716 STDOUT [us-east-1/networking/vpc] tofu: aws_vpc.main: Creating...")
    assert unit == "dev/us-east-1/networking/vpc" and sig == [Signal.RESOURCE]
    _, sig = signals(
        p,
        "08:43:11.001 STDOUT [us-east-1/networking/vpc] tofu: aws_vpc.main: Still creating... [10s elapsed]",
    )
    assert Signal.RESOURCE in sig
    _, sig = signals(p, "08:43:11.001 STDOUT [a] terraform: Plan: 3 to add, 0 to change, 0 to destroy.")
    assert sig == [Signal.PLANNING, Signal.PLAN_DONE]
    _, sig = signals(p, "08:43:11.001 STDOUT [a] tofu: Initializing the backend...")
    assert sig == [Signal.INIT]
    _, sig = signals(p, "08:43:11.001 STDERR [a] tofu: │ Error: Failed to install provider")
    assert sig == [Signal.ERROR_LINE]
    # the run-level queue header has no unit
    unit, sig = signals(
        p,
        "08:43:09.000 INFO   The following units will be run, starting with dependencies and then their "
        "dependents:",
    )
    assert unit is None and sig == []


def test_v1_builtin_retry_and_exhaustion() -> None:
    p = OutputParser(WD, "dev")
    unit, sig = signals(p, "10:00:00.000 WARN   [us-east-1/x] Encountered retryable error: default")
    assert unit == "dev/us-east-1/x" and sig == [Signal.BUILTIN_RETRY]
    # the continuation line of that multi-line message belongs to the same unit and means nothing more
    unit, sig = signals(p, "Attempt 1 of 3. Waiting 5 second(s) before retrying...")
    assert unit == "dev/us-east-1/x" and sig == []
    _, sig = signals(p, "10:00:10.000 ERROR  [us-east-1/x] max retry attempts (3) reached for error: boom")
    assert sig == [Signal.RETRIES_EXHAUSTED]


def test_v1_run_failed_block_names_units() -> None:
    p = OutputParser(WD, "dev")
    assert signals(p, "10:00:00.000 ERROR  Run failed: 2 errors occurred:") == (None, [])
    assert signals(p, "") == (None, [])
    unit, sig = signals(
        p, '* Failed to execute "tofu apply -auto-approve -input=false" in ./a/b/.terragrunt-cache/x/y'
    )
    assert unit == "dev/a/b" and sig == [Signal.FAILED]
    unit, sig = signals(p, "  Error: Creating metric alarm failed: ValidationError: A separate request")
    assert unit == "dev/a/b" and sig == [Signal.ERROR_LINE]
    unit, sig = signals(p, "* Unit '/live/dev/c' did not run due to a failure in '/live/dev/a/b'")
    assert unit == "dev/c" and sig == [Signal.EARLY_EXIT]


def test_v0_lines() -> None:
    p = OutputParser(WD, "dev")
    unit, sig = signals(
        p,
        "15:04:05.000 ERROR  [a] Module ./a has finished with an error: [./a/.terragrunt-cache/z] exit status 1",  # noqa: E501
    )
    assert unit == "dev/a" and sig == [Signal.FAILED]
    unit, sig = signals(
        p,
        "15:04:05.000 ERROR  [b] Dependency ./a of module ./b just finished with an error. Module ./b will have to "  # noqa: E501
        "return an error too.",
    )
    assert unit == "dev/b" and sig == [Signal.EARLY_EXIT]
    unit, sig = signals(
        p, "15:04:05.000 INFO   [c] Encountered an error eligible for retrying. Sleeping 5s before retrying."
    )
    assert unit == "dev/c" and sig == [Signal.BUILTIN_RETRY]
    _, sig = signals(
        p, "15:04:06.000 ERROR  [c] Exhausted retries (3) for command tofu apply -input=false -auto-approve"
    )
    assert sig == [Signal.RETRIES_EXHAUSTED]


def test_old_logrus_and_key_value_and_json() -> None:
    p = OutputParser(WD, "dev")
    unit, sig = signals(
        p,
        'time=2024-01-01T00:00:00Z level=info msg="Encountered an error eligible for retrying." prefix=[/live/dev/a] ',  # noqa: E501
    )
    assert unit == "dev/a" and sig == [Signal.BUILTIN_RETRY]
    unit, sig = signals(
        p,
        'time=2025-01-01T00:00:00Z level=stdout prefix=us-east-1/x tf-path=tofu msg="Apply complete! Resources: 1 added"',  # noqa: E501
    )
    assert unit == "dev/us-east-1/x" and sig == [Signal.SUCCEEDED]
    unit, sig = signals(
        p,
        '{"time": "2025", "level": "stdout", "prefix": "x", "tf-path": "tofu", "msg": "aws_s3_bucket.b: Creating..."}',  # noqa: E501
    )
    assert unit == "dev/x" and Signal.RESOURCE in sig


def test_colours_are_stripped() -> None:
    p = OutputParser(WD, "dev")
    unit, sig = signals(
        p, "\x1b[0m08:43:10.716 \x1b[32mSTDOUT\x1b[0m [foo] tofu: Apply complete! Resources: 1 added"
    )
    assert unit == "dev/foo" and sig == [Signal.SUCCEEDED]


def test_catalog_samples_match_their_own_entry() -> None:
    cat = catalog.default()
    ids = {e.id for e in cat.errors}
    assert {"tls-timeout", "alarm-in-progress", "modules-not-found"} <= ids  # the seed's three
    assert {"state-lock", "throttling", "provider-download"} <= ids
    for entry in cat.errors:
        assert entry.sample, entry.id
        assert cat.match(entry.sample) is entry, entry.id
    assert cat.get("modules-not-found").action is catalog.Action.SOURCE_UPDATE
    assert cat.get("state-lock").action is catalog.Action.SUGGEST
    assert cat.get("tls-timeout").terragrunt_retries and cat.get("alarm-in-progress").terragrunt_retries
    assert cat.match(["Error: creating VPC: AccessDenied"]) is None

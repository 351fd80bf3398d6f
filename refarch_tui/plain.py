"""`refarch-tui plain`: the checklist in line mode with questionary prompts, for SSH links and screen readers.

The same core as the TUI (checklist, state, the step modules through `steps.runner`, the runner for the
apply): a setup begun in one mode resumes in the other at the same next cell. Output is plain lines — no
cursor tricks, no meaning carried by colour alone. Before anything changes AWS the account, its ID, the
identity (ARN) and the region are printed; every plan and every diff is printed before a y/N question
whose default is No.

Destructive entries (teardown through `run.teardown_line`, the sandbox reset through `sandbox.open_sandbox`)
always ask for the typed name: plain mode has no --yes and no --confirm.

Ctrl-C at a prompt ends plain mode with the state as it was (exit 130); during a step it asks the step to
stop at its next safe point, records nothing half-done, and then ends the same way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from refarch_tui import checklist, secrets
from refarch_tui.live.edits import PlannedEdit
from refarch_tui.state import Mode, Workspace, WorkspaceLocked, WorkspaceState
from refarch_tui.steps import registry
from refarch_tui.steps.contract import AnswerSpec, StepPlan, StepRefused

if TYPE_CHECKING:
    from refarch_tui.aws.access import AwsAccess
    from refarch_tui.steps.runner import StepOutcome

QUIT = "quit"


class Interrupted(Exception):
    """Ctrl-C: the session ends; the state is consistent."""


class SessionEnds(Exception):
    """Plain mode cannot go on (a reset that did not finish): the message says what to do; exit 1."""


def _in_event_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _ask(question: Any) -> Any:
    try:
        if _in_event_loop():
            # asked from inside a coroutine (the teardown's typed confirmations): prompt_toolkit cannot
            # start its own loop there, so the question runs in a thread of its own. Ctrl-C still reaches
            # it: the terminal is in raw mode, so it arrives as a key, not as SIGINT.
            return question.application.run(in_thread=True)
        return question.unsafe_ask()
    except (KeyboardInterrupt, EOFError):
        raise Interrupted() from None


@dataclass
class Prompts:
    """questionary, one question at a time; every answer is typed, never inferred from colour."""

    def text(self, message: str, default: str = "") -> str:
        import questionary

        shown = f"{message} [{default}]" if default else message
        answer = _ask(questionary.text(shown + ":", qmark=""))
        return str(answer).strip() or default

    def secret(self, message: str) -> str:
        import questionary

        return str(_ask(questionary.password(message + " (empty: generate one):", qmark="")))

    def typed(self, message: str) -> str:
        """A typed confirmation (an account's name): no default, the answer exactly as typed."""
        import questionary

        return str(_ask(questionary.text(message.rstrip(), qmark="")))

    def confirm(self, message: str, *, default: bool = False) -> bool:
        import questionary

        return bool(_ask(questionary.confirm(message, default=default, qmark="")))

    def choose(self, message: str, choices: Sequence[tuple[str, str]]) -> str:
        """A numbered list (type the number, then Enter); returns the chosen value."""
        import questionary

        options = [questionary.Choice(title=title, value=value) for value, title in choices]
        return str(_ask(questionary.rawselect(message, choices=options, qmark="")))


class PlainSession:
    def __init__(
        self,
        workspace: Workspace,
        state: WorkspaceState,
        access: AwsAccess,
        *,
        out: TextIO,
        prompts: Prompts | None = None,
        allow_plaintext_keyring: bool = False,
        resume_command: str = "refarch-tui plain",
    ) -> None:
        self.workspace = workspace
        self.state = state
        self.access = access
        self.out = out
        self.prompts = prompts or Prompts()
        self.allow_plaintext_keyring = allow_plaintext_keyring
        self.resume_command = resume_command

    def say(self, line: str = "") -> None:
        print(secrets.redact(line), file=self.out, flush=True)

    # -- the checklist -------------------------------------------------------------------------------------

    def show_checklist(self) -> None:
        self.say("Checklist (step: account status, ...):")
        for step in checklist.STEPS:
            cells = [
                f"{account} {self.state.record(step.id, account).status.value}"
                for account in self.state.account_names
                if self.state.applies(step.id, account)
            ]
            built = (
                "" if step.id == registry.RUNNER_STEP or registry.is_built(step.id) else " (not built yet)"
            )
            self.say(f"  {step.title}{built}: {', '.join(cells)}")

    def loop(self) -> int:
        while True:
            self.say()
            self.show_checklist()
            following = self.state.next_cell()
            choices: list[tuple[str, str]] = []
            if following is not None:
                step_id, account = following
                choices.append(
                    (f"cell:{step_id}:{account}", f"Next: {checklist.step(step_id).title} in {account}")
                )
            choices += [
                ("pick", "Choose a step and an account"),
                ("verify", "Verify what is done (re-check AWS, files and HCL)"),
                ("apply", "Run Terragrunt (apply, account by account)"),
                ("export", "Export a redacted transcript"),
                ("teardown", "Tear down an account (plan, rehearsal or destroy; the name is typed)"),
            ]
            if self.state.mode is Mode.SANDBOX:
                choices.append(("reset", "Reset the sandbox (delete its progress; `sandbox` is typed)"))
            choices.append((QUIT, "Quit (progress is saved)"))
            choice = self.prompts.choose("What next?", choices)
            if choice == QUIT:
                self.say(f"Progress is saved. Resume with: {self.resume_command}")
                return 0
            if choice.startswith("cell:"):
                _, step_id, account = choice.split(":", 2)
                self.do_cell(step_id, account)
            elif choice == "pick":
                self.pick_cell()
            elif choice == "verify":
                self.verify()
            elif choice == "apply":
                self.apply()
            elif choice == "export":
                self.export()
            elif choice == "teardown":
                self.teardown()
            elif choice == "reset":
                self.reset_sandbox()

    def pick_cell(self) -> None:
        steps = [(s.id, s.title) for s in checklist.STEPS]
        step_id = self.prompts.choose("Which step?", steps)
        accounts = [a for a in self.state.account_names if self.state.applies(step_id, a)]
        if not accounts:
            self.say(f"{checklist.step(step_id).title} applies to no account of this workspace.")
            return
        account = self.prompts.choose("Which account?", [(a, a) for a in accounts])
        self.do_cell(step_id, account)

    # -- one cell ------------------------------------------------------------------------------------------

    def identity_lines(self, account: str, region: str) -> list[str]:
        result = self.access.result(account)
        who = result.arn if result.ok else f"NOT CONFIRMED — {result.explanation}"
        label = " (SANDBOX: the local emulator, not AWS)" if self.state.mode is Mode.SANDBOX else ""
        return [
            f"Account: {account}, ID {self.state.account(account).id or 'unknown'}{label}",
            f"Identity: {who}",
            f"Region: {region}",
        ]

    def do_cell(self, step_id: str, account: str) -> None:
        if step_id == registry.RUNNER_STEP:
            self.apply([account])
            return
        step = checklist.step(step_id)
        if not registry.is_built(step_id):
            self.say(
                f'{step.title} is NOT BUILT YET: do it by hand, following the seed\'s "{step.seed_section}".'
            )
            return
        self.say(f"== {step.title} — {account}")
        self.say(step.summary)
        answers = self.ask_answers(registry.module(step_id).ANSWERS, account)
        from refarch_tui.steps import runner, services

        cancel = threading.Event()
        ctx = services.context_for(
            self.workspace,
            self.state,
            self.access,
            account,
            progress=lambda line: self.say(f"  {account}: {line}"),
            cancel=cancel,
            allow_plaintext_keyring=self.allow_plaintext_keyring,
        )
        try:
            plan = runner.prepare(ctx, step_id, answers)
        except StepRefused as exc:
            self.say(f"Cannot start: {exc}")
            return
        except Exception as exc:  # a plan that fails (e.g. a name taken) is said, never a traceback
            self.say(f"The plan failed: {exc}")
            return
        self.show_plan(plan, account, ctx.region)
        if plan.not_applicable:
            self.say(f"Not applicable: {plan.not_applicable}")
        if not self.prompts.confirm(f"Go ahead with {step.title} in {account}?", default=False):
            self.say("Nothing was done.")
            return
        outcome = self._run_with_cancel(lambda accept: runner.run_planned(ctx, plan, accept), cancel)
        self.show_outcome(outcome)

    def ask_answers(self, specs: Sequence[AnswerSpec], account: str) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for spec in specs:
            if spec.secret:
                typed = self.prompts.secret(spec.help)
                if typed:
                    secrets.register_secret(typed)
                    answers[spec.key] = typed
                continue
            if spec.kind == "bool":
                answers[spec.key] = self.prompts.confirm(spec.help, default=bool(spec.default))
                continue
            if spec.kind == "choice" and spec.choices:
                default = str(spec.default) if spec.default is not None else spec.choices[0]
                ordered = [default, *[c for c in spec.choices if c != default]]
                answers[spec.key] = self.prompts.choose(f"{spec.help} [{default}]", [(c, c) for c in ordered])
                continue
            default = "" if spec.default is None else _as_text(spec.default).replace("{account}", account)
            typed = self.prompts.text(
                spec.help if spec.default is not None else f"{spec.help} (empty: derived)", default
            )
            if typed != default:
                answers[spec.key] = typed
        return answers

    def show_plan(self, plan: StepPlan, account: str, region: str) -> None:
        for line in self.identity_lines(account, region):
            self.say(line)
        if plan.actions:
            self.say("It will:")
            for action in plan.actions:
                self.say(f"  - {action}")
        if plan.commands:
            self.say("Commands it will run (secrets masked):")
            for command in plan.commands:
                self.say(f"  $ {command}")
        for warning in plan.warnings:
            self.say(f"WARNING: {warning}")
        if plan.edits:
            self.say("Edits it already knows (each is asked again before it is written):")
            for edit in plan.edits:
                self.say(edit.diff.rstrip("\n"))

    def review_edits(self, edits: list[PlannedEdit]) -> list[PlannedEdit]:
        accepted = []
        self.say(f"{len(edits)} proposed edit(s):")
        for edit in edits:
            self.say(edit.diff.rstrip("\n"))
            self.say(f"Why: {edit.reason}")
            if self.prompts.confirm(f"Write this change to {edit.label or edit.file}?", default=False):
                accepted.append(edit)
        return accepted

    def _run_with_cancel(
        self,
        work: Callable[[Callable[[list[PlannedEdit]], list[PlannedEdit]]], StepOutcome],
        cancel: threading.Event,
    ) -> StepOutcome:
        """Runs the step in a thread (so Ctrl-C can ask it to stop) while prompts stay on this thread."""
        requests: queue.Queue[tuple[str, Any]] = queue.Queue()
        answers: queue.Queue[list[PlannedEdit]] = queue.Queue()

        def accept(edits: list[PlannedEdit]) -> list[PlannedEdit]:
            requests.put(("review", edits))
            return answers.get()

        def body() -> None:
            try:
                requests.put(("done", work(accept)))
            except BaseException as exc:  # re-raised on the prompting thread
                requests.put(("error", exc))

        thread = threading.Thread(target=body, name="plain-step", daemon=True)
        thread.start()
        interrupted = False
        while True:
            try:
                kind, value = requests.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                interrupted = True
                cancel.set()
                self.say("Stopping the step at its next safe point; nothing half-done is recorded…")
                continue
            if kind == "review":
                try:
                    answers.put([] if interrupted else self.review_edits(value))
                except Interrupted:
                    interrupted = True
                    answers.put([])
                continue
            thread.join()
            if kind == "error":
                raise value
            if interrupted:
                self.show_outcome(value)
                raise Interrupted()
            outcome: StepOutcome = value
            return outcome

    def show_outcome(self, outcome: StepOutcome) -> None:
        self.say(f"Result: {outcome.status.value} — {outcome.message}")
        record = self.state.record(outcome.step, outcome.account)
        for key, value in record.facts.items():
            self.say(f"  {key} = {_as_text(value)}")
        for change in outcome.changes:
            self.say(f"  edit {change.file} {change.key}: {_as_text(change.old)} -> {_as_text(change.new)}")

    # -- verify, apply, export -----------------------------------------------------------------------------

    def verify(self) -> None:
        from refarch_tui.steps import resume, services

        def context_for(account: str) -> Any:
            return services.context_for(self.workspace, self.state, self.access, account)

        def report(entry: resume.Checked) -> None:
            why = f" — {entry.reason}" if entry.reason else ""
            self.say(f"  {checklist.step(entry.step).title} {entry.account}: {entry.status.value}{why}")

        if not resume.cells_to_verify(self.state):
            self.say("Nothing to verify: no step is done yet.")
            return
        self.say("Verifying what is done…")
        resume.verify_workspace(self.workspace, self.state, context_for, on_checked=report)

    def apply(self, accounts: list[str] | None = None) -> None:
        from refarch_tui.run import line_mode

        selected = accounts or self.state.account_names
        self.say("Run Terragrunt, account by account (security, shared-services, then dev/stage/prod):")
        for account in selected:
            for line in self.identity_lines(
                account, self.state.regions[0] if self.state.regions else "us-east-1"
            ):
                self.say(f"  {line}")
        if not self.prompts.confirm(f"Apply in {', '.join(selected)}?", default=False):
            self.say("Nothing was run.")
            return
        generation = _terragrunt_generation()

        def env_for_account(account: str) -> Any:
            return self.access.environment_for(account, base_env={}, terragrunt_generation=generation)

        code = line_mode.main(
            workspace=self.workspace,
            state=self.state,
            accounts=accounts,
            report=None,
            env_for_account=env_for_account,
            stdout=self.out,
        )
        self.state = self.workspace.load()
        self.say(f"Apply finished with exit code {code}.")

    def export(self) -> None:
        from refarch_tui import export

        target = export.write_transcript(
            self.workspace, self.state, allow_plaintext=self.allow_plaintext_keyring
        )
        self.say(f"Transcript written to {target}")

    # -- destructive: teardown and sandbox reset (always typed, never a --yes) -------------------------------

    def teardown(self) -> None:
        """`refarch-tui teardown` for one account, with the same plan, phases and typed confirmations."""
        from refarch_tui.run import teardown_line

        account = self.prompts.choose(
            "Which account to tear down?", [(a, a) for a in reversed(self.state.account_names)]
        )
        action = self.prompts.choose(
            f"Teardown of {account}:",
            [
                ("plan", "Show the destroy plan (runs nothing)"),
                ("rehearse", "Rehearse: `plan -destroy` of every planned unit (destroys nothing)"),
                ("destroy", "Destroy, wave by wave (the account name is typed to confirm each phase)"),
            ],
        )
        region = self.state.regions[0] if self.state.regions else "us-east-1"
        if action != "plan":
            for line in self.identity_lines(account, region):
                self.say(line)
        generation = _terragrunt_generation()

        def env_for_account(name: str) -> Any:
            return self.access.environment_for(name, base_env={}, terragrunt_generation=generation)

        def access() -> tuple[Any, str]:
            result = self.access.result(account)
            return env_for_account, result.summary if result.ok else f"not confirmed: {result.explanation}"

        try:
            code = teardown_line.main(
                workspace=self.workspace,
                state=self.state,
                account=account,
                action=action,
                confirm=None,  # plain mode has no --confirm: the name is always typed
                as_json=False,
                report=None,
                access=access,
                out=self.out,
                err=self.out,
                prompter=teardown_line.Prompter(ask=self.prompts.typed),
            )
        except Interrupted:
            self.say(
                f"Teardown of {account} stopped at a confirmation; nothing more ran and what did run is "
                "recorded. Choose Tear down again to continue with what is not destroyed yet."
            )
            raise
        finally:
            self.state = self.workspace.load()
        self.say(f"Teardown ({action}) of {account} finished with exit code {code}.")

    def reset_sandbox(self) -> None:
        """`refarch-tui sandbox --reset`: the word typed, then a fresh sandbox with its emulator again."""
        from refarch_tui import sandbox
        from refarch_tui.steps.line_mode import CannotStart, connect

        self.say(sandbox.reset_warning(self.workspace.directory))
        typed = self.prompts.typed(f"Type `{sandbox.RESET_WORD}` to confirm, anything else keeps it: ")
        if typed.strip() != sandbox.RESET_WORD:
            self.say(f"Not reset: {typed.strip()!r} is not `{sandbox.RESET_WORD}`. Nothing was deleted.")
            return
        try:
            # this process holds the workspace lock already: the reset runs under it
            _workspace, self.state = sandbox.open_sandbox(reset=True)
            self.access = connect(self.workspace, self.state, self.state.account_names, self.out).access
        except (sandbox.SandboxError, CannotStart) as exc:
            raise SessionEnds(
                f"The reset did not finish: {exc}. Run `refarch-tui sandbox --reset` to try again."
            ) from None
        self.say(f"The sandbox was reset: a fresh copy of the sample repo in {self.workspace.directory}.")


def _terragrunt_generation() -> int | None:
    from refarch_tui.run_access import terragrunt_generation

    return terragrunt_generation()


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, default=str)


def main(
    *, sandbox: bool, workspace_arg: str | None, allow_plaintext_keyring: bool, out: TextIO, err: TextIO
) -> int:
    """Exit codes: 0 quit, 1 a sandbox reset that did not finish, 2 could not start, 130 interrupted."""
    from refarch_tui.steps.line_mode import CannotStart, connect, open_workspace

    resume_command = (
        "refarch-tui plain --sandbox"
        if sandbox
        else "refarch-tui plain" + (f" --workspace {workspace_arg}" if workspace_arg else "")
    )
    try:
        workspace, state = open_workspace(sandbox, workspace_arg, err)
    except CannotStart as exc:
        print(f"refarch-tui plain: {exc}", file=err)
        return 2
    try:
        workspace.acquire()
    except WorkspaceLocked as exc:
        print(f"refarch-tui plain: {exc}", file=err)
        return 2
    try:
        banner = (
            "SANDBOX — a local AWS emulator and a copy of the sample repo; nothing reaches AWS"
            if state.mode is Mode.SANDBOX
            else "REAL AWS — every step acts on the accounts below"
        )
        print(f"refarch-tui plain mode. {banner}.", file=out)
        print(f"Workspace: {workspace.directory}", file=out)
        print(f"Live repo: {state.live_dir}", file=out)
        try:
            opened = connect(workspace, state, state.account_names, out)
        except CannotStart as exc:
            print(f"refarch-tui plain: {exc}", file=err)
            return 2
        session = PlainSession(
            workspace,
            state,
            opened.access,
            out=out,
            allow_plaintext_keyring=allow_plaintext_keyring,
            resume_command=resume_command,
        )
        try:
            return session.loop()
        except SessionEnds as exc:
            print(f"refarch-tui plain: {secrets.redact(str(exc))}", file=err)
            return 1
        except (Interrupted, KeyboardInterrupt):
            print(
                f"\nInterrupted. The state is saved and nothing half-done was recorded. "
                f"Resume with: {resume_command}",
                file=out,
            )
            return 130
    finally:
        workspace.release()

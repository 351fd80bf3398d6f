"""The apply/destroy runner (no Textual here).

- `controller.RunController`: what the App owns: preflight, start, subscribe, cancel, rerun failed;
- `engine.Run`: one run across accounts in deployment order, per-unit events, retries, persistence;
- `terragrunt_exec.TerragruntExecutor` / `rehearsal.RehearsalExecutor`: how one account's units are executed;
- `parser`, `catalog` (assets/known_errors.json), `store` (runs on disk), `view` (what the screen shows);
- `line_mode.main`: `refarch-tui apply --no-tui`.
"""

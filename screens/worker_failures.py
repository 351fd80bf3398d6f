"""Worker failures reach one handler on the App (the traceback to the log file, a notification with its path).

Textual tells a worker's owner, not the app, when the worker raises (`Worker.StateChanged` does not bubble).
A screen or widget that runs workers inherits `ReportsWorkerFailures`, which turns that into a `WorkerCrashed`
message that bubbles up to the App. Workers run with `exit_on_error=False`: a bug in one background job is
reported, it does not close the app in the middle of someone's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState


@dataclass
class WorkerCrashed(Message):
    """A worker raised: what it was (its name or group) and the exception, traceback attached."""

    worker_name: str
    error: BaseException


def crash_of(worker: Worker[object]) -> WorkerCrashed | None:
    if worker.state is not WorkerState.ERROR or worker.error is None:
        return None
    # `@work` names a worker after its method: "_load_full_log" reads as "load full log"
    name = (worker.name or worker.group).strip("_").replace("_", " ")
    return WorkerCrashed(name, worker.error)


class ReportsWorkerFailures(MessagePump):
    """Mixin for screens and widgets whose `@work` methods run on themselves."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        crash = crash_of(event.worker)
        if crash is not None:
            self.post_message(crash)

"""One way to act on a session's upload: the protocol both queues the window can talk to
implement (the in-process `qt_queue.UploadQueue` and `qt_ipc.RemoteQueue`, which hands the
request to the process that owns the queue), and Delete, which both share.

Every action answers the same way: None when it was done or accepted, else one sentence
saying why not (and nothing changed). An action may block — the checks read the session's
files, a hand-off waits for the owner's answer, Delete may abort a multipart upload — so the
window calls these on its background executor, never on the GUI thread. Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from app.sessions import InvalidSessionId, delete_session_folder
from app.upload.destination import describe
from app.upload.session.errors import UploadError
from app.upload.session.state_store import StateDamaged, UploadStateStore

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

SessionOp = Literal["enqueue", "retry", "cancel", "delete"]
SESSION_OPS: tuple[SessionOp, ...] = ("enqueue", "retry", "cancel", "delete")
QUEUED_SENTENCE = "Cancel the upload before deleting this session."

ConfigFn = Callable[[Path], "tuple[UploadConfig | None, str | None]"]
AbortFn = Callable[[Path, str, "UploadConfig", UploadStateStore], None]


class SessionActions(Protocol):
    """enqueue / retry / cancel / delete: None, or the sentence saying why not. May block."""

    def enqueue(self, session_id: str) -> str | None: ...
    def retry(self, session_id: str) -> str | None: ...
    def cancel(self, session_id: str) -> str | None: ...
    def delete(self, session_id: str) -> str | None: ...
    def act_on_many(self, op: SessionOp, session_ids: list[str]) -> dict[str, str]:
        """The same action on many sessions; the refusals by session id."""
        ...


def act_one_by_one(actions: SessionActions, op: SessionOp, session_ids: list[str]) -> dict[str, str]:
    refusals: dict[str, str] = {}
    act = getattr(actions, op)
    for session_id in session_ids:
        refusal = act(session_id)
        if refusal:
            refusals[session_id] = refusal
    return refusals


def delete_session(data_dir: Path, store: UploadStateStore, session_id: str,
                   load_config: ConfigFn, abort: AbortFn) -> str | None:
    """Remove a session folder; a multipart upload it still holds in the bucket is aborted
    first, so nothing is left billed there. Refuses (one sentence, nothing removed) while the
    session is queued or uploading, or when the abort cannot be sent or fails."""
    with store.lock(session_id):
        try:
            state = store.get(session_id)
        except StateDamaged:
            state = None  # unreadable: no upload to know of; the person asked for the folder to go
        if state is not None and state.status in ("pending", "uploading"):
            return QUEUED_SENTENCE
        if state is not None and state.multipart is not None:
            config, problem = load_config(data_dir)
            if config is None:
                return (f"Session {session_id} was not deleted: its unfinished upload cannot be "
                        f"removed from the bucket ({(problem or 'no settings').rstrip('.')}).")
            try:
                abort(data_dir, session_id, config, store)
            except UploadError as exc:
                where = describe(config)
                return (f"Session {session_id} was not deleted: its unfinished upload could not "
                        f"be removed from {where} ({exc.sentence.rstrip('.')}). Try again "
                        f"when {where} can be reached.")
        try:
            # Never follows a link: a link in place of the folder (or inside it) goes as a link.
            delete_session_folder(data_dir, session_id)
        except InvalidSessionId as exc:
            return str(exc)
        except OSError as exc:
            return f"Session {session_id} could not be deleted: {exc.strerror or exc}."
    return None


def real_delete(data_dir: Path, store: UploadStateStore, session_id: str) -> str | None:
    """`delete_session` with the real settings and the configured destination's abort."""
    from app.upload.queue.calls import destination_calls

    calls = destination_calls()
    return delete_session(data_dir, store, session_id, calls.load_config, calls.abort)

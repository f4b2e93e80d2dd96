"""Which local session files may be removed, and removing them.

The rule protects recordings that have not arrived: only sessions whose upload
is `done` (complete and verified) may lose their local files, only when the
user asked for it (delete-after-upload or a retention limit), and never a
damaged session. The folder itself, `session-meta.json` and `upload-state.json`
are kept so the list still shows where the recording went.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app import session_files
from app.models import SessionListItem
from app.sessions import META_FILE, STATE_FILE, list_sessions, read_list_item, session_paths

log = logging.getLogger(__name__)

KEPT_FILES = frozenset({META_FILE, STATE_FILE})


@dataclass(frozen=True)
class RetentionPolicy:
    delete_after_upload: bool = False
    # Keep the local files of at most this many uploaded sessions (newest kept); None = no limit.
    keep_uploaded: int | None = None

    @property
    def enabled(self) -> bool:
        return self.delete_after_upload or self.keep_uploaded is not None


def _removable(item: SessionListItem) -> bool:
    return item.upload_status == "done" and not item.damaged and item.has_local_files


def plan_cleanup(items: Iterable[SessionListItem], policy: RetentionPolicy) -> list[str]:
    """Session ids whose local files the policy allows removing; `items` newest first."""
    if not policy.enabled:
        return []
    done = [item for item in items if _removable(item)]
    if policy.delete_after_upload:
        return [item.session_id for item in done]
    assert policy.keep_uploaded is not None
    done.sort(key=lambda item: item.created_at, reverse=True)
    return [item.session_id for item in done[max(policy.keep_uploaded, 0):]]


def remove_local_files(data_dir: Path, session_id: str) -> None:
    """Remove a session's recording files, keeping its metadata and upload state. Nothing is
    followed: a link in the folder is removed as a link, its target is never touched."""
    root = session_paths(data_dir, session_id).root
    for name in session_files.list_names(root):
        if name in KEPT_FILES:
            continue
        session_files.remove(root, name)


def apply_cleanup(data_dir: Path, policy: RetentionPolicy) -> list[str]:
    """Apply the policy to the data dir; returns the ids whose files were removed."""
    removed: list[str] = []
    for session_id in plan_cleanup(list_sessions(data_dir), policy):
        # Re-read just before deleting: the plan must still hold for this session now.
        if not _removable(read_list_item(session_paths(data_dir, session_id))):
            continue
        try:
            remove_local_files(data_dir, session_id)
        except OSError as exc:
            log.warning("could not remove local files of %s: %s", session_id, exc)
            continue
        removed.append(session_id)
    return removed

"""Garbage in session files: listing never raises and marks the session damaged."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import SessionMeta, UploadState
from app.sessions import list_sessions, session_paths

SID = "20261123-120000-000-abcdef"
FILES = ["session-meta.json", "upload-state.json"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)

VALID_META = SessionMeta(session_id=SID, created_at=1_700_000_000_000, ended_at=1_700_000_060_000,
                         action_count=3).to_json()
VALID_STATE = UploadState(session_id=SID, status="pending", created_at=1, updated_at=2).to_json()

# For each field, values of a type that field can never hold.
WRONG = {
    int: st.text(max_size=5) | st.lists(st.integers(), max_size=2) | st.booleans(),
    str: st.integers() | st.lists(st.text(), max_size=2) | st.booleans(),
}


def _mutations(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    required = ["sessionId", "createdAt"] if "status" not in valid else [
        "sessionId", "status", "createdAt", "updatedAt"]

    def drop(key: str) -> dict[str, Any]:
        return {k: v for k, v in valid.items() if k != key}

    dropped = st.sampled_from(required).map(drop)
    retyped = st.sampled_from(required).flatmap(
        lambda key: WRONG[type(valid[key])].map(lambda bad: {**valid, key: bad}))
    return dropped | retyped


def _fresh_data_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="sr-fuzz-"))
    paths = session_paths(root, SID)
    paths.root.mkdir(parents=True)
    return root


def _check(target_file: str, raw: bytes, with_valid_meta: bool) -> None:
    root = _fresh_data_dir()
    paths = session_paths(root, SID)
    if with_valid_meta:
        paths.meta.write_text(json.dumps(VALID_META))
    (paths.root / target_file).write_bytes(raw)
    try:
        items = list_sessions(root)
    finally:
        shutil.rmtree(root)
    assert len(items) == 1
    assert items[0].damaged, raw[:200]
    assert items[0].damaged_reason
    assert items[0].session_id == SID


FUZZ = settings(max_examples=1000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@FUZZ
@given(raw=st.binary(max_size=300), which=st.sampled_from(FILES))
def test_random_bytes(raw: bytes, which: str) -> None:
    _check(which, raw, with_valid_meta=which == "upload-state.json")


@FUZZ
@given(doc=json_values, which=st.sampled_from(FILES))
def test_random_json_shapes(doc: Any, which: str) -> None:
    _check(which, json.dumps(doc).encode(), with_valid_meta=which == "upload-state.json")


@FUZZ
@given(doc=_mutations(VALID_META))
def test_near_valid_meta(doc: dict[str, Any]) -> None:
    _check("session-meta.json", json.dumps(doc).encode(), with_valid_meta=False)


@FUZZ
@given(doc=_mutations(VALID_STATE))
def test_near_valid_state(doc: dict[str, Any]) -> None:
    _check("upload-state.json", json.dumps(doc).encode(), with_valid_meta=True)


def test_valid_documents_are_not_damaged() -> None:
    root = _fresh_data_dir()
    paths = session_paths(root, SID)
    paths.meta.write_text(json.dumps(VALID_META))
    paths.upload_state.write_text(json.dumps(VALID_STATE))
    (item,) = list_sessions(root)
    shutil.rmtree(root)
    assert not item.damaged and item.upload_status == "pending"

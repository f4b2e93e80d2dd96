"""Where sessionrec keeps its data: --data-dir > $SESSIONREC_DATA_DIR > the platform user-data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "SESSIONREC_DATA_DIR"
APP_NAME = "sessionrec"


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """Pick the data dir by precedence; the folder is not created here."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env_value = os.environ.get(ENV_VAR)
    if env_value:
        return Path(env_value).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data dir and its fixed sub-folders (DESIGN §3)."""
    for sub in (data_dir, data_dir / "sessions", data_dir / "logs"):
        sub.mkdir(parents=True, exist_ok=True)
    return data_dir


def sessions_root(data_dir: Path) -> Path:
    return data_dir / "sessions"


def config_path(data_dir: Path) -> Path:
    return data_dir / "upload-config.json"


def credentials_path(data_dir: Path) -> Path:
    return data_dir / "credentials.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "sessionrec.log"

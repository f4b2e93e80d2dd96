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


# Recordings hold the whole screen and every key typed: nobody else may read them.
DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data dir and its fixed sub-folders (DESIGN §3), private (0700). Existing
    folders are left as they are here; `app.privacy.tighten_data_dir` tightens them."""
    for sub in (data_dir, data_dir / "sessions", data_dir / "logs"):
        if not sub.is_dir():
            sub.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask; the folder must be exactly private.
            os.chmod(sub, DIR_MODE)
    return data_dir


def sessions_root(data_dir: Path) -> Path:
    return data_dir / "sessions"


def config_path(data_dir: Path) -> Path:
    return data_dir / "upload-config.json"


def credentials_path(data_dir: Path) -> Path:
    return data_dir / "credentials.json"


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / "sessionrec.log"

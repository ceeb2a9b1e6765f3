"""The running hub's state file: what `simpul up` started, for `simpul status` to read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "simpul.state.json"


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    path = data_dir / FILE_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def read_state(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def clear_state(data_dir: Path) -> None:
    (data_dir / FILE_NAME).unlink(missing_ok=True)

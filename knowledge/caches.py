"""Where the knowledge package keeps what it derives from installed dictionaries, so a restart reads it
back instead of building it again (jieba's prefix dictionary, the bridge's parsed CC-CEDICT)."""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_folder: Path | None = None


def keep_caches_in(folder: Path | None) -> None:
    """Keep the caches in `folder` from now on (None: jieba's default, the temporary folder; no others)."""
    global _folder
    _folder = folder


def cache_folder() -> Path | None:
    """The folder set by `keep_caches_in`, created on first use; None when none is set or it cannot be made."""
    if _folder is None:
        return None
    try:
        _folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot create the cache folder %s (%s): starting without caches", _folder, exc)
        return None
    return _folder


def read_cached(name: str) -> Any | None:
    """The value stored under `name`, or None when there is none (or it cannot be read)."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        with open(folder / name, "rb") as file:
            return marshal.load(file)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write_cached(name: str, value: Any) -> None:
    """Store `value` (marshal-able) under `name`; replaced whole, so a reader never sees half of it."""
    folder = cache_folder()
    if folder is None:
        return
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(descriptor, "wb") as file:
            marshal.dump(value, file)
        os.replace(temporary, folder / name)
    except OSError as exc:
        log.warning("cannot write the cache %s (%s)", folder / name, exc)

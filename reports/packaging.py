"""Fitting a file under Telegram's upload limit: zip it, and split the zip when even that is too big."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

# Telegram bots may upload up to 50 MB; stay a little under for the multipart envelope.
TELEGRAM_UPLOAD_LIMIT = 49 * 1000 * 1000
CHUNK = 1 << 20


@dataclass(frozen=True)
class Upload:
    """The files to send, and how they were made to fit (for telling the manager)."""

    paths: tuple[Path, ...]
    zipped: bool = False

    @property
    def split(self) -> bool:
        return len(self.paths) > 1


def fit_for_upload(path: Path, *, limit: int = TELEGRAM_UPLOAD_LIMIT) -> Upload:
    """`path` itself when small enough; else a .zip; else the .zip cut into .001, .002… parts.

    Parts of a cut zip open directly in 7-Zip, or join them with `cat name.zip.* > name.zip`.
    """
    if path.stat().st_size <= limit:
        return Upload((path,))
    archive = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
        bundle.write(path, arcname=path.name)
    if archive.stat().st_size <= limit:
        return Upload((archive,), zipped=True)
    return Upload(tuple(_cut(archive, limit)), zipped=True)


def _cut(path: Path, limit: int) -> list[Path]:
    parts: list[Path] = []
    with path.open("rb") as source:
        while True:
            part = path.with_name(f"{path.name}.{len(parts) + 1:03d}")
            written = 0
            with part.open("wb") as target:
                while written < limit and (data := source.read(min(CHUNK, limit - written))):
                    target.write(data)
                    written += len(data)
            if not written:
                part.unlink()
                break
            parts.append(part)
    path.unlink()
    return parts

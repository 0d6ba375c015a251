"""Auction photos: checked by their first bytes, stored under the instance folder with random names,
served back with headers that stop a browser from treating them as anything but an image."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, send_from_directory
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ...models import AuctionPhoto
from ..usecases import read

bp = Blueprint("photos", __name__)

MAX_PHOTOS = 5
FILENAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp|gif)$")
# (content type, extension) by magic bytes; the name and the browser's claimed type are ignored.
SIGNATURES: list[tuple[bytes, int, str, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"WEBP", 8, "image/webp", "webp"),
]


class PhotoError(ValueError):
    """A file that cannot be accepted; the message is shown on the form."""


@dataclass(frozen=True)
class StoredPhoto:
    filename: str
    content_type: str
    size: int


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) for a supported image, from its first bytes."""
    for magic, offset, content_type, ext in SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (ext != "webp" or head[:4] == b"RIFF"):
            return content_type, ext
    return None


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_bytes() -> int:
    return int(current_app.config["PHOTO_MAX_BYTES"])


def limit_text() -> str:
    limit = max_bytes()
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def chosen_files(files: list[FileStorage]) -> list[FileStorage]:
    """The file inputs the user actually filled (browsers send an empty part for an empty input)."""
    return [f for f in files if f and f.filename]


def check_photos(files: list[FileStorage]) -> list[tuple[bytes, str, str]]:
    """Read and validate every upload before anything is stored: (data, content type, ext)."""
    if len(files) > MAX_PHOTOS:
        raise PhotoError(f"at most {MAX_PHOTOS} photos per auction")
    limit = max_bytes()
    checked = []
    for upload in files:
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise PhotoError(f"{_display_name(upload)} is larger than {limit_text()}")
        if not data:
            raise PhotoError(f"{_display_name(upload)} is empty")
        kind = sniff(data[:16])
        if kind is None:
            raise PhotoError(f"{_display_name(upload)} is not a JPEG, PNG, WebP or GIF image")
        checked.append((data, *kind))
    return checked


def _display_name(upload: FileStorage) -> str:
    return (upload.filename or "a file")[:60]


def store(checked: list[tuple[bytes, str, str]]) -> list[StoredPhoto]:
    """Write the files under random names; the caller records them (or calls `discard`)."""
    folder = upload_dir()
    stored = []
    for data, content_type, ext in checked:
        filename = f"{secrets.token_hex(16)}.{ext}"
        (folder / filename).write_bytes(data)
        stored.append(StoredPhoto(filename, content_type, len(data)))
    return stored


def copy(filenames: list[str]) -> dict[str, str]:
    """New files with the content of these, original name -> copy's (a relisted lot keeps its photos; a file
    belongs to one auction). Missing files are skipped; the caller records the copies (or `discard_names`)."""
    folder = upload_dir()
    copies = {}
    for name in filenames:
        source = folder / name
        if FILENAME_RE.match(name) and source.is_file():
            copies[name] = f"{secrets.token_hex(16)}.{name.rsplit('.', 1)[-1]}"
            (folder / copies[name]).write_bytes(source.read_bytes())
    return copies


def discard_names(filenames: list[str]) -> None:
    folder = upload_dir()
    for filename in filenames:
        (folder / filename).unlink(missing_ok=True)


def discard(stored: list[StoredPhoto]) -> None:
    discard_names([photo.filename for photo in stored])


@bp.get("/photos/<filename>")
def photo(filename: str) -> Any:
    if not FILENAME_RE.match(filename):
        abort(404)
    content_type = read(lambda s: s.scalar(select(AuctionPhoto.content_type).where(AuctionPhoto.filename == filename)))
    if content_type is None:
        abort(404)
    response = send_from_directory(upload_dir(), filename, mimetype=content_type, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def filenames(session: Session, auction_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuctionPhoto.filename).where(AuctionPhoto.auction_id == auction_id).order_by(AuctionPhoto.position)
        )
    )


def first_photos(session: Session, auction_ids: list[int]) -> dict[int, str]:
    """auction id -> the file name of its first photo, for list thumbnails (one query)."""
    if not auction_ids:
        return {}
    rows = session.execute(
        select(AuctionPhoto.auction_id, AuctionPhoto.filename)
        .where(AuctionPhoto.auction_id.in_(auction_ids))
        .order_by(AuctionPhoto.auction_id, AuctionPhoto.position)
    ).all()
    firsts: dict[int, str] = {}
    for auction_id, filename in rows:
        firsts.setdefault(auction_id, filename)
    return firsts

"""Spreadsheets over HTTP: an uploaded file handed to an importer, and a file written by
ssj sent back as a download.

An upload is copied to a private temporary directory under its own base name (bounded by
``imports.max_file_mb`` while copying), so the importer reads a file as the CLI's does and
its messages cite the file by the name the clerk uploaded, never by the server's temporary
path. A download is written to a temporary directory that is removed once it has been sent;
its ``Content-Disposition`` names the file (RFC 6266, ``filename*`` for Chinese names).
"""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from workflow.core import input_limits
from workflow.core.config import ImportSettings
from workflow.core.errors import InvalidInput, SsjError

__all__ = ["CSV", "MEDIA_TYPES", "XLSX", "download", "download_responses", "uploaded"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
MEDIA_TYPES = {".xlsx": XLSX, ".csv": CSV}
_CHUNK = 1024 * 1024
_NAME_MAX = 120


def download_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a route that answers with a file."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"content": {m: binary for m in media_types}, "description": "文件下载"}}


def _file_name(name: str | None) -> str:
    """The uploaded file's base name as the clerk's computer gave it (a path's last part,
    NFC, no control characters, bounded), to cite in messages."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base).strip()
    if not base or base in (".", "..") or input_limits.bad_char(base, multiline=False):
        raise InvalidInput("上传的文件缺少有效的文件名（应为 .csv 或 .xlsx 文件）", field="file")
    suffix = Path(base).suffix.lower()
    if suffix not in MEDIA_TYPES:
        raise InvalidInput(
            f"{base}：只支持 .csv 或 .xlsx 文件（.xls 请先另存为 .xlsx）", field="file", value=base
        )
    if len(base) > _NAME_MAX:
        base = base[: _NAME_MAX - len(suffix)] + suffix
    return base


def _swap(value: Any, real: str, shown: str) -> Any:
    if isinstance(value, str):
        return value.replace(real, shown)
    if isinstance(value, list | tuple):
        return [_swap(v, real, shown) for v in value]
    if isinstance(value, dict):
        return {k: _swap(v, real, shown) for k, v in value.items()}
    return value


def _cited(error: SsjError, real: str, shown: str) -> SsjError:
    """``error`` with the temporary path replaced by the uploaded file's name."""
    error.message = _swap(error.message, real, shown)
    error.args = (error.message,)
    error.fields = _swap(error.fields, real, shown)
    if isinstance(getattr(error, "problems", None), list):
        error.problems = _swap(error.problems, real, shown)  # type: ignore[attr-defined]
    return error


@contextmanager
def uploaded(upload: UploadFile, limits: ImportSettings) -> Iterator[Path]:
    """The upload as a file of its own name in a private temporary directory, removed after
    the block; an error the block raises cites the file by that name."""
    name = _file_name(upload.filename)
    limit = limits.max_file_mb * _CHUNK
    with tempfile.TemporaryDirectory(prefix="ssj-upload-") as tmp:
        path = Path(tmp) / name
        size = 0
        upload.file.seek(0)
        with open(path, "wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(
                        f"{name}：文件超过上限 {limits.max_file_mb} MB（imports.max_file_mb），"
                        "请拆分后分批导入",
                        field="file",
                    )
                out.write(chunk)
        try:
            yield path
        except SsjError as e:
            raise _cited(e, str(path), name) from None


def download(write: Callable[[Path], Any], filename: str) -> FileResponse:
    """A file ``write`` makes (given the path to write), sent as ``filename``; the temporary
    copy is removed once the response has been sent (or at once, if writing fails)."""
    tmp = Path(tempfile.mkdtemp(prefix="ssj-download-"))
    try:
        path = tmp / f"file{Path(filename).suffix.lower()}"
        write(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        filename=filename,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )

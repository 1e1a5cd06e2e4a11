"""The upload receiver: where `session-analytics collect --server URL` sends a laptop's content-free copies.

    GET  /uploads/whoami                         who the token is: org, user, the email files go under, limits
    POST /uploads/{source}?path=<relative path>  the file's bytes as the body (application/octet-stream)

Served by `session-analytics serve --accept-uploads` on the same app as the analytics API (reports.api), with the
same bearer tokens. The token names a user of an org; the user's email comes from the published warehouse's
directory (`analytics.dim_users`), and the file is written at `<raw-dir>/<source>/<email, lower case>/<path>`,
the layout the refresh reads. The uploader never names a user: no one can upload as someone else, and a member's
token writes only into that member's own folder.

Checks, in order: token (401), the user in the directory with an email that can name a folder (403), a known
source and a safe path of a file that source's loader reads (422, `parameter` names which), the size (413: the
Content-Length, then the bytes read; SESSION_ANALYTICS_UPLOAD_MAX_BYTES, default 64 MiB), the content (422 when
it is not a raw file of its kind at all: not gzip where the name says so, not UTF-8, a `.json` file that is not
one JSON document, JSON Lines of which no line is JSON; a bad line beside good ones is kept, and the refresh
quarantines it at its line as in any raw file; the reason never quotes the data), and the write
(409 when a folder on the way or the file is a link or not what it should be). The write is atomic and
idempotent: a file that already holds these bytes is not touched (its modification time is kept, so the next
refresh does not read it again) and the answer says "unchanged"; otherwise "created" (201) or "updated" (200).
Every upload and every refusal is logged with the token, the user and the path.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from orchestration.collection import collector
from orchestration.config import Paths
from reports.api.app import (
    ApiError,
    ApiSettings,
    ErrorBody,
    ParameterErrorBody,
    authenticated_reader,
)
from reports.api.tokens import TokenRecord
from reports.web.app import app_from_environment as served_app_from_environment
from reports.web.app import create_app as create_served_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadSettings:
    raw_dir: Path
    max_bytes: int = collector.DEFAULT_MAX_BYTES
    formats: dict[str, Any] = field(default_factory=lambda: {fmt.source: fmt for fmt in collector.collected_formats()})

    @classmethod
    def from_environment(cls) -> UploadSettings:
        """The raw dir (SESSION_ANALYTICS_RAW_DIR, as `serve` exported it) and the size limit (ValueError names a
        bad one)."""
        return cls(raw_dir=Paths.resolve().raw_dir, max_bytes=collector.upload_max_bytes())


def add_uploads(app: FastAPI, settings: UploadSettings) -> FastAPI:
    """Mount the upload routes on the analytics app (whose token store, warehouse and error handlers they use)."""
    app.state.uploads = settings
    app.include_router(router)
    return app


def create_app(api: ApiSettings, uploads: UploadSettings) -> FastAPI:
    return add_uploads(create_served_app(api), uploads)


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` (one per worker process): the API and dashboard with the upload routes."""
    return add_uploads(served_app_from_environment(), UploadSettings.from_environment())


router = APIRouter(prefix=collector.UPLOADS_PREFIX, tags=["uploads"])
_DENIALS = {
    401: {"model": ErrorBody, "description": "No token, or a token that is unknown or revoked"},
    403: {"model": ErrorBody, "description": "The token's user is not in the directory, or has no usable email"},
    503: {"model": ErrorBody, "description": "The warehouse or the token store cannot be read"},
}


@router.get("/whoami", summary="Who the token is, and where its uploads go", responses=_DENIALS)
def whoami(request: Request, uploader: Annotated[TokenRecord, Depends(authenticated_reader)]) -> dict:
    settings: UploadSettings = request.app.state.uploads
    email = _email_of(request, uploader)
    return {
        "org_id": uploader.org_id,
        "user_id": uploader.user_id,
        "email": email,
        "folder": collector.user_folder(email),
        "sources": sorted(settings.formats),
        "max_bytes": settings.max_bytes,
    }


@router.post(
    "/{source}",
    summary="Upload one collected file (the collector's content-free copy) into the token's user's folder",
    status_code=201,
    responses={
        200: {"description": "The file was updated, or already held these bytes (status unchanged)"},
        201: {"description": "The file was created"},
        **_DENIALS,
        409: {"model": ErrorBody, "description": "A folder on the way, or the file, is a link or not a folder/file"},
        413: {"model": ErrorBody, "description": "Larger than SESSION_ANALYTICS_UPLOAD_MAX_BYTES"},
        422: {"model": ParameterErrorBody, "description": "Unknown source, unsafe or unwanted path, invalid content"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    request: Request,
    source: Annotated[str, PathParam(description="The agent's source: claude_code, codex, gemini, copilot")],
    path: Annotated[str, Query(description="The file's path under the agent's folder, '/'-separated")],
    uploader: Annotated[TokenRecord, Depends(authenticated_reader)],
) -> JSONResponse:
    settings: UploadSettings = request.app.state.uploads
    for name in request.query_params:
        if name != "path":  # in particular no user or email: the token says whose file this is
            raise _refused(request, uploader, 422, f"{name}: unknown parameter; the only one is path", name)
    email = await run_in_threadpool(_email_of, request, uploader)
    fmt = settings.formats.get(source)
    if fmt is None:
        known = ", ".join(sorted(settings.formats))
        raise _refused(request, uploader, 422, f"unknown source {source!r}; known: {known}", "source")
    problem = collector.path_problem(path)
    if problem:
        raise _refused(request, uploader, 422, f"unsafe path: {problem}", "path")
    if not collector.is_wanted(fmt, PurePosixPath(path)):
        raise _refused(request, uploader, 422, f"not a file the {source} loader reads", "path")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_bytes:
        raise _too_large(request, uploader, int(declared), settings.max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_bytes:
            raise _too_large(request, uploader, len(body), settings.max_bytes)
    data = bytes(body)
    problem = await run_in_threadpool(collector.content_problem, path, data, settings.max_bytes)
    if problem:
        raise _refused(request, uploader, 422, f"invalid content: {problem}", "body")
    folder = collector.user_folder(email)
    settings.raw_dir.mkdir(parents=True, exist_ok=True)
    try:
        status = await run_in_threadpool(
            collector.write_file, settings.raw_dir, (source, folder, *path.split("/")), data
        )
    except collector.UnsafePath as error:
        raise _refused(request, uploader, 409, f"not written: {error}") from None
    log.info(
        "upload by token %s (user %s of %s): %s/%s/%s %s (%d bytes)",
        uploader.token_id,
        uploader.user_id,
        uploader.org_id,
        source,
        folder,
        path,
        status,
        len(data),
    )
    answer = {
        "source": source,
        "path": path,
        "email": email,
        "status": status,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return JSONResponse(answer, status_code=201 if status == "created" else 200)


def _email_of(request: Request, uploader: TokenRecord) -> str:
    """The token's user's email, from the directory of the warehouse published now."""
    warehouse = request.app.state.warehouse.current()
    cursor = warehouse.cursor()
    try:
        rows = cursor.execute(
            "select email from analytics.dim_users where org_id = ? and user_id = ? and in_directory",
            [uploader.org_id, uploader.user_id],
        ).fetchall()
    finally:
        cursor.close()
    if not rows:
        raise _refused(request, uploader, 403, f"user {uploader.user_id} is not in {uploader.org_id}'s directory")
    email = rows[0][0] or ""
    problem = collector.email_folder_problem(email)
    if problem:
        raise _refused(
            request, uploader, 403, f"the directory's email of {uploader.user_id} cannot name a folder ({problem})"
        )
    return email


def _too_large(request: Request, uploader: TokenRecord, size: int, limit: int) -> ApiError:
    """413: `size` is the declared length, or what was read when it passed the limit."""
    shown = f"{size} bytes" if size <= limit + 1 else f"more than {limit} bytes"
    return _refused(request, uploader, 413, f"{shown}: the limit is {limit} ({collector.MAX_BYTES_ENV})")


def _refused(
    request: Request, uploader: TokenRecord, status: int, reason: str, parameter: str | None = None
) -> ApiError:
    client = request.client.host if request.client else "?"
    log.warning(
        "upload refused %d: token %s (user %s of %s) from %s, %s: %s",
        status,
        uploader.token_id,
        uploader.user_id,
        uploader.org_id,
        client,
        request.url.path,
        reason,
    )
    return ApiError(status, reason, parameter)

"""Routes: uploads and the avatar (under /api), and the media files themselves (/media)."""

from __future__ import annotations

import inspect
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from core.media.model import STORED_CONTENT_TYPE
from core.media.use_cases import (
    DeleteUpload,
    GetUpload,
    LocateMedia,
    SetAvatar,
    UploadImage,
    UploadImageInput,
)
from entrypoints.http.deps import CurrentUser, MediaWriter, provide
from entrypoints.http.errors import BODY_ERRORS, error_responses
from entrypoints.http.schemas.media import UploadResponse
from entrypoints.http.schemas.users import UserResponse
from entrypoints.http.uploads import FIELD, UploadLimits, received_file

router = APIRouter(tags=["media"])
UPLOAD_PATHS = ("/user/image", "/uploads")  # their body cap: see app.upload_paths
files = APIRouter(tags=["media"])  # at the root: GET /media/{name}

UploadImageDep = Annotated[UploadImage, Depends(provide(UploadImage))]
SetAvatarDep = Annotated[SetAvatar, Depends(provide(SetAvatar))]
GetUploadDep = Annotated[GetUpload, Depends(provide(GetUpload))]
DeleteUploadDep = Annotated[DeleteUpload, Depends(provide(DeleteUpload))]
LocateMediaDep = Annotated[LocateMedia, Depends(provide(LocateMedia))]
UploadLimitsDep = Annotated[UploadLimits, Depends(provide(UploadLimits))]
MediaName = Annotated[str, Path(examples=[f"{'0' * 64}.webp"])]
UploadId = Annotated[uuid.UUID, Path(examples=["0193a1f0-7c2e-7d4b-9a51-3e2f1c0b9d8a"])]

# The body of both upload routes and the media files, for the OpenAPI document: the routes
# read the stream themselves, so FastAPI has no model to describe (document_media adds these).
SCHEMAS: dict[str, dict[str, Any]] = {
    "UploadForm": {
        "title": "UploadForm",
        "type": "object",
        "required": [FIELD],
        "properties": {
            FIELD: {
                "type": "string",
                "format": "binary",
                "description": "One JPEG, PNG, WebP or GIF image, at most UPLOAD_MAX_BYTES "
                "(5 MiB by default); its type is read from its bytes.",
            }
        },
    },
    "MediaFile": {"title": "MediaFile", "type": "string", "format": "binary"},
}
MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"$ref": "#/components/schemas/UploadForm"},
                "example": {FIELD: "(the image's bytes)"},
            }
        },
    }
}


def document_media(app: FastAPI) -> None:
    """Add SCHEMAS to the OpenAPI document's components."""
    inner = app.openapi

    def openapi() -> dict[str, Any]:
        schema = inner()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in SCHEMAS.items():
            components.setdefault(name, definition)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


UPLOAD_ERRORS = error_responses(*BODY_ERRORS, 401, 403, 404, 415, 422, 503)

# Variants never change under their name (the hash of their bytes): cache for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# Nothing in an image runs, even if a browser were talked into rendering it as a document.
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@router.put(
    "/user/image",
    name="users:set-image",
    summary="Upload the current user's avatar",
    description=inspect.getdoc(SetAvatar),
    responses=UPLOAD_ERRORS,
    openapi_extra=MULTIPART_BODY,
)
async def set_avatar(
    request: Request, actor: MediaWriter, limits: UploadLimitsDep, set_avatar: SetAvatarDep
) -> UserResponse:
    async with received_file(request, max_bytes=limits.max_bytes, tmp_dir=limits.tmp_dir) as got:
        return UserResponse.of(await set_avatar.execute(actor, got.path))


@router.post(
    "/uploads",
    status_code=201,
    name="uploads:create",
    summary="Upload an image for an article",
    description=inspect.getdoc(UploadImage),
    responses=UPLOAD_ERRORS,
    openapi_extra=MULTIPART_BODY,
)
async def create_upload(
    request: Request, actor: MediaWriter, limits: UploadLimitsDep, upload: UploadImageDep
) -> UploadResponse:
    async with received_file(request, max_bytes=limits.max_bytes, tmp_dir=limits.tmp_dir) as got:
        return UploadResponse.of(await upload.execute(UploadImageInput(actor, got.path)))


@router.get(
    "/uploads/{upload_id}",
    name="uploads:get",
    summary="An upload's metadata",
    description=inspect.getdoc(GetUpload),
    responses=error_responses(401, 404, 422),
)
async def get_upload(upload_id: UploadId, actor: CurrentUser, get: GetUploadDep) -> UploadResponse:
    return UploadResponse.of(await get.execute(actor, upload_id))


@router.delete(
    "/uploads/{upload_id}",
    status_code=204,
    name="uploads:delete",
    summary="Delete an upload",
    description=inspect.getdoc(DeleteUpload),
    responses=error_responses(401, 403, 404, 422),
)
async def delete_upload(
    upload_id: UploadId, actor: MediaWriter, delete: DeleteUploadDep
) -> Response:
    await delete.execute(actor, upload_id)
    return Response(status_code=204)


@files.get(
    "/media/{name}",
    name="media:get",
    summary="A stored image",
    description="The image under its content-addressed name, cacheable for a year "
    "(`immutable`, strong ETag, Range requests); with the S3 store, a redirect to a "
    "short-lived signed URL.",
    response_class=Response,
    responses={
        200: {
            "content": {
                STORED_CONTENT_TYPE: {
                    "schema": {"$ref": "#/components/schemas/MediaFile"},
                    "example": "(the image's bytes)",
                }
            },
            "description": "The image (206 for a Range; 302 to a signed URL with S3)",
        },
        **error_responses(404, 422),
    },
)
async def get_media(name: MediaName, request: Request, locate: LocateMediaDep) -> Response:
    location = await locate.execute(name)
    if location.path is None:
        # A signed URL expires: the redirect itself is not cached for long.
        return RedirectResponse(
            str(location.url), status_code=302, headers={"Cache-Control": "private, max-age=60"}
        )
    etag = f'"{name}"'  # strong: the name is the hash of these very bytes
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Content-Security-Policy": MEDIA_CSP}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return FileResponse(location.path, media_type=STORED_CONTENT_TYPE, headers=headers)

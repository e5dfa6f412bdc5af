"""Response bodies of /uploads (the avatar route answers the user, schemas/users.py)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from core.media.views import UploadView


class Upload(BaseModel):
    id: uuid.UUID
    url: str = Field(description="Absolute URL of the image, for markdown bodies and `image`.")
    thumbnailUrl: str = Field(description="Absolute URL of the thumbnail (at most 320 px).")
    width: int
    height: int
    contentType: str = Field(examples=["image/webp"])
    bytes: int = Field(description="Size of the stored image (not of the file sent).")


class UploadResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "upload": {
                        "id": "0193a1f0-7c2e-7d4b-9a51-3e2f1c0b9d8a",
                        "url": "https://api.example.com/media/3f2a...e9.webp",
                        "thumbnailUrl": "https://api.example.com/media/3f2a...e9.thumb.webp",
                        "width": 1600,
                        "height": 900,
                        "contentType": "image/webp",
                        "bytes": 183204,
                    }
                }
            ]
        }
    )
    upload: Upload

    @classmethod
    def of(cls, view: UploadView) -> UploadResponse:
        upload = view.upload
        return cls(
            upload=Upload(
                id=upload.id,
                url=view.url,
                thumbnailUrl=view.thumbnail_url,
                width=upload.width,
                height=upload.height,
                contentType=upload.content_type,
                bytes=upload.bytes,
            )
        )

"""What the media context's use cases answer."""

from __future__ import annotations

from dataclasses import dataclass

from core.media.model import MediaPolicy, Upload, blob_name


@dataclass(frozen=True, slots=True)
class UploadView:
    upload: Upload
    url: str
    thumbnail_url: str

    @classmethod
    def of(cls, upload: Upload, policy: MediaPolicy) -> UploadView:
        main, thumb = upload.names[0], blob_name(upload.digest, ".thumb")
        return cls(upload, policy.url_for(main), policy.url_for(thumb))

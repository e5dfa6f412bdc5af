"""PillowImageProcessor: sniff, decode with a pixel ceiling, strip, resize and re-encode, in a
bounded pool off the event loop.

The work itself (`process_file`) is a plain function of a path, so it runs in a process pool
(the default: decoding holds the GIL in places and takes memory the server's process then
keeps) or a thread pool (tests, small machines).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from core.media.errors import UnsupportedImage
from core.media.model import (
    SNIFF_BYTES,
    VARIANTS,
    EncodedVariant,
    ImageFormat,
    ProcessedImage,
    UploadKind,
    VariantSpec,
    sniff,
)
from core.shared.errors import Unavailable

if TYPE_CHECKING:
    from PIL import Image

# Pillow is imported where images are decoded (a worker, at its first image), not when the
# server starts: a server whose uploads are off never loads it.

WEBP_QUALITY = 82
# Niceness of the decoding processes: under load the event loop comes first.
WORKER_NICENESS = 10


class ImageRejected(Exception):
    """Raised in the worker; one plain message, so it crosses a process boundary intact."""


def _limit_pixels(max_pixels: int) -> None:
    from PIL import Image

    # Pillow's own guard: a warning past MAX_IMAGE_PIXELS, DecompressionBombError past twice
    # that, both raised from Image.open before any pixel is decoded. process_file checks the
    # exact ceiling itself too.
    Image.MAX_IMAGE_PIXELS = max_pixels


def _worker_start(max_pixels: int) -> None:
    _limit_pixels(max_pixels)
    with contextlib.suppress(AttributeError, OSError):
        os.nice(WORKER_NICENESS)


def _fit(image: Image.Image, spec: VariantSpec) -> Image.Image:
    from PIL import Image, ImageOps

    if spec.square:
        side = min(spec.max_width, image.width, image.height)
        return ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    copy = image.copy()
    copy.thumbnail((spec.max_width, spec.max_height), Image.Resampling.LANCZOS)
    return copy


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, icc_profile= or xmp= arguments: nothing of the source's metadata is written.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def process_file(path: str, kind: str, max_pixels: int) -> ProcessedImage:
    """Decode the file at `path` and make the kind's variants; ImageRejected if it is not an
    image we take. Runs in a worker."""
    with open(path, "rb") as file:
        head = file.read(SNIFF_BYTES)
    from PIL import Image, ImageOps, UnidentifiedImageError

    found = sniff(head)
    if found is None:
        raise ImageRejected("is not a JPEG, PNG, WebP or GIF image")
    try:
        # formats=: only the decoder the magic number named may read the file.
        with Image.open(path, formats=[found.value]) as opened:
            if opened.width * opened.height > max_pixels:
                raise ImageRejected(f"has too many pixels (maximum is {max_pixels})")
            opened.seek(0)  # an animation keeps its first frame
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"has too many pixels (maximum is {max_pixels})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("could not be decoded (damaged, truncated or not an image)") from exc
    alpha = image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
    image = image.convert("RGBA" if alpha else "RGB")
    image.info.clear()
    variants = []
    for spec in VARIANTS[UploadKind(kind)]:
        variant = _fit(image, spec)
        variants.append(
            EncodedVariant(spec.suffix, _encode(variant), variant.width, variant.height)
        )
    return ProcessedImage(ImageFormat(found.value), tuple(variants))


def default_workers() -> int:
    """One fewer than the CPUs this process may use, at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class PillowImageProcessor:
    """ImageProcessor over Pillow. `max_workers` decode at once; at most `max_waiting` more
    wait, one more is refused at once (Unavailable: 503 with Retry-After), so a burst of
    uploads holds bounded memory and never queues without end. `processes` (default) decodes
    in child processes (spawned: no fork of a threaded server), else in threads."""

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        max_waiting: int = 16,
        processes: bool = True,
        max_pixels: int = 40_000_000,
    ) -> None:
        workers = max_workers or default_workers()
        self._pool: Executor
        if processes:
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
                initargs=(max_pixels,),
            )
        else:
            self._pool = ThreadPoolExecutor(
                max_workers=workers,
                thread_name_prefix="pillow",
                initializer=_limit_pixels,
                initargs=(max_pixels,),
            )
        self._capacity = workers + max_waiting
        self._in_flight = 0

    async def process(self, source: Path, kind: UploadKind, max_pixels: int) -> ProcessedImage:
        with self._slot():
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(
                    self._pool, process_file, str(source), kind.value, max_pixels
                )
            except ImageRejected as exc:
                raise UnsupportedImage(str(exc)) from None

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        # Only the event loop's thread counts: no lock needed.
        if self._in_flight >= self._capacity:
            raise Unavailable("too many uploads at once; retry in a few seconds")
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

"""Pillow processing of real files (adapters/imaging): what survives re-encoding."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from adapters.imaging.pillow import ImageRejected, PillowImageProcessor, process_file
from core.media.errors import UnsupportedImage
from core.media.model import UploadKind
from core.shared.errors import Unavailable
from tests.media import files


def on_disk(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return str(path)


def test_a_jpeg_loses_its_exif_and_is_turned_upright(tmp_path: Path) -> None:
    image = process_file(on_disk(tmp_path, files.jpeg_with_gps((80, 40))), "article", 10**6)

    main = Image.open(io.BytesIO(image.main.data))
    assert main.format == "WEBP"
    assert main.size == (40, 80)
    assert dict(main.getexif()) == {}
    assert b"SecretCam" not in image.main.data


def test_transparency_is_kept(tmp_path: Path) -> None:
    clear = files.encoded(Image.new("RGBA", (20, 20), (255, 0, 0, 0)), "PNG")

    image = process_file(on_disk(tmp_path, clear), "article", 10**6)

    assert Image.open(io.BytesIO(image.main.data)).mode == "RGBA"


@pytest.mark.parametrize(
    "data",
    [files.png_bomb(), files.real_png_bomb(side=1_100)],
    ids=["announced", "real"],
)
def test_more_pixels_than_the_ceiling_are_refused_before_decoding(
    tmp_path: Path, data: bytes
) -> None:
    with pytest.raises(ImageRejected, match="too many pixels"):
        process_file(on_disk(tmp_path, data), "article", 10**6)


def test_a_file_whose_decoder_is_not_the_sniffed_one_is_refused(tmp_path: Path) -> None:
    # A PNG magic number before JPEG data: only the PNG decoder may read it, and it cannot.
    data = b"\x89PNG\r\n\x1a\n" + files.jpeg_with_gps()

    with pytest.raises(ImageRejected, match="decoded"):
        process_file(on_disk(tmp_path, data), "article", 10**6)


async def test_the_processor_maps_rejections_and_runs_in_child_processes(tmp_path: Path) -> None:
    processor = PillowImageProcessor(max_workers=1, processes=True, max_pixels=10**6)
    try:
        made = await processor.process(
            Path(on_disk(tmp_path, files.png((300, 300)))), UploadKind.AVATAR, 10**6
        )
        (tmp_path / "upload").write_bytes(files.SVG)
        with pytest.raises(UnsupportedImage):
            await processor.process(tmp_path / "upload", UploadKind.AVATAR, 10**6)
    finally:
        processor.close()
    assert [(v.width, v.height) for v in made.variants] == [(256, 256), (64, 64)]


async def test_a_full_pool_refuses_at_once(tmp_path: Path) -> None:

    processor = PillowImageProcessor(max_workers=1, max_waiting=0, processes=False)
    path = Path(on_disk(tmp_path, files.png((900, 900))))
    try:
        results = await asyncio.gather(
            *(processor.process(path, UploadKind.ARTICLE, 10**6) for _ in range(3)),
            return_exceptions=True,
        )
    finally:
        processor.close()
    assert sum(isinstance(r, Unavailable) for r in results) == 2

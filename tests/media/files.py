"""Real image files for the media tests, made with Pillow (and by hand where Pillow refuses)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

GPS_IFD = ExifTags.IFD.GPSInfo


def image(size: tuple[int, int] = (64, 48), color: str = "teal") -> Image.Image:
    return Image.new("RGB", size, color)


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    return encoded(image(size, color), "PNG")


def jpeg_with_gps(size: tuple[int, int] = (80, 40)) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera model and orientation 6 (the
    picture must be turned 90 degrees clockwise to be seen upright)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "SecretCam 3000"
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(GPS_IFD)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return encoded(image(size), "JPEG", exif=exif, quality=90)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(side: int = 100_000) -> bytes:
    """A PNG that announces side x side pixels (10 gigapixels by default) in a few hundred
    bytes: one row of zeros, compressed; a decoder that trusted it would allocate tens of GB."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (side + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def real_png_bomb(side: int = 2_000) -> bytes:
    """A real, valid PNG of side x side black pixels: a few KB that decode to side^2 bytes."""
    return encoded(Image.new("L", (side, side)), "PNG", optimize=True)


SCRIPT = b"<script>alert(document.domain)</script>"


def gif_polyglot() -> bytes:
    """GIF magic number, then JavaScript: `GIF89a/*...*/=alert(1)` runs as a script."""
    return b"GIF89a/*\x00\x00*/=1;alert(document.domain);//" + SCRIPT


def gif_with_script_appended() -> bytes:
    """A valid GIF followed by a script: it decodes, and the script must not survive."""
    return encoded(image((16, 16), "red").convert("P"), "GIF") + SCRIPT


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'
)
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def truncated_jpeg() -> bytes:
    whole = encoded(image((200, 200), "navy"), "JPEG", quality=95)
    return whole[: len(whole) // 2]

"""Uploads over HTTP (issue 14): real files in, re-encoded WebP out, bad input refused."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from adapters.s3.media import S3Location, S3MediaStore
from core.media.use_cases import SweepUnusedUploads
from tests.api.helpers import Account, assert_error, publish, register
from tests.media import files
from tests.media.apps import PUBLIC, MediaApp, media_app
from tests.media.s3 import BUCKET, KEY_ID, SECRET, s3_endpoint

__all__ = ["s3_endpoint"]  # the fixture, used by name

UPLOADS = "/api/uploads"
AVATAR = "/api/user/image"


@pytest.fixture
async def media(tmp_path: Path) -> AsyncIterator[MediaApp]:
    async with media_app(tmp_path) as app:
        yield app


@pytest.fixture
async def jake(media: MediaApp) -> Account:
    return await register(media.client, "jake")


async def upload(
    media: MediaApp,
    account: Account,
    data: bytes,
    filename: str = "picture.png",
    content_type: str = "image/png",
    path: str = UPLOADS,
) -> httpx2.Response:
    sent = {"file": (filename, data, content_type)}
    if path == AVATAR:
        return await media.client.put(path, files=sent, headers=account.auth)
    return await media.client.post(path, files=sent, headers=account.auth)


def multipart(*parts: tuple[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart body from raw part headers (Content-Disposition line) and contents."""
    boundary = "conduit-test-boundary"
    body = b""
    for disposition, content in parts:
        body += f"--{boundary}\r\n".encode() + disposition.encode("latin-1")
        body += b"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def decoded(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


async def test_upload_answers_an_absolute_url_and_the_image_metadata(
    media: MediaApp, jake: Account
) -> None:
    response = await upload(media, jake, files.png((300, 200)))

    assert response.status_code == 201, response.text
    body = response.json()["upload"]
    assert set(body) == {"id", "url", "thumbnailUrl", "width", "height", "contentType", "bytes"}
    assert body["url"].startswith(f"{PUBLIC}/media/")
    assert body["url"].endswith(".webp")
    assert (body["width"], body["height"], body["contentType"]) == (300, 200, "image/webp")
    served = await media.client.get(body["url"].removeprefix(PUBLIC))
    assert served.status_code == 200
    assert len(served.content) == body["bytes"]
    assert decoded(served.content).format == "WEBP"


async def test_urls_never_come_from_the_host_header(media: MediaApp, jake: Account) -> None:
    sent = {"file": ("a.png", files.png(), "image/png")}
    response = await media.client.post(
        UPLOADS, files=sent, headers={**jake.auth, "Host": "evil.example"}
    )

    assert response.status_code == 201, response.text
    assert "evil.example" not in response.text
    assert response.json()["upload"]["url"].startswith(PUBLIC)


async def test_gps_and_every_other_exif_field_are_stripped_and_orientation_applied(
    media: MediaApp, jake: Account
) -> None:
    original = files.jpeg_with_gps((80, 40))
    assert decoded(original).getexif().get_ifd(files.GPS_IFD)  # the file does carry GPS

    response = await upload(media, jake, original, "holiday.jpg", "image/jpeg")

    assert response.status_code == 201, response.text
    body = response.json()["upload"]
    assert (body["width"], body["height"]) == (40, 80)  # orientation 6: turned upright
    stored = (await media.client.get(body["url"].removeprefix(PUBLIC))).content
    image = decoded(stored)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert "xmp" not in image.info
    assert b"SecretCam" not in stored
    assert b"GPS" not in stored


async def test_a_wide_article_image_is_bounded_and_gets_a_thumbnail(
    media: MediaApp, jake: Account
) -> None:
    response = await upload(media, jake, files.png((2560, 320)))

    body = response.json()["upload"]
    assert (body["width"], body["height"]) == (2048, 256)
    thumb = await media.client.get(body["thumbnailUrl"].removeprefix(PUBLIC))
    assert decoded(thumb.content).size == (320, 40)


async def test_the_avatar_is_cut_to_256_px_and_becomes_the_profile_image(
    media: MediaApp, jake: Account
) -> None:
    response = await upload(media, jake, files.png((600, 400)), path=AVATAR)

    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["image"].startswith(f"{PUBLIC}/media/")
    avatar = await media.client.get(user["image"].removeprefix(PUBLIC))
    assert decoded(avatar.content).size == (256, 256)
    profile = await media.client.get("/api/profiles/jake")
    assert profile.json()["profile"]["image"] == user["image"]


async def test_the_same_image_is_stored_once_and_is_one_reference(
    media: MediaApp, jake: Account
) -> None:
    first = await upload(media, jake, files.png())
    again = await upload(media, jake, files.png(), "other-name.png")
    jane = await register(media.client, "jane")
    hers = await upload(media, jane, files.png())

    assert first.json()["upload"] == again.json()["upload"]
    assert hers.json()["upload"]["url"] == first.json()["upload"]["url"]
    assert hers.json()["upload"]["id"] != first.json()["upload"]["id"]
    assert len(media.stored()) == 2  # the image and its thumbnail, once


async def test_the_blob_goes_with_the_last_reference(media: MediaApp, jake: Account) -> None:
    jane = await register(media.client, "jane")
    mine = (await upload(media, jake, files.png())).json()["upload"]
    hers = (await upload(media, jane, files.png())).json()["upload"]

    gone = await media.client.delete(f"{UPLOADS}/{mine['id']}", headers=jake.auth)
    assert gone.status_code == 204
    assert len(media.stored()) == 2  # jane still holds it
    assert (await media.client.get(mine["url"].removeprefix(PUBLIC))).status_code == 200

    await media.client.delete(f"{UPLOADS}/{hers['id']}", headers=jane.auth)
    assert media.stored() == []
    assert_error(await media.client.get(mine["url"].removeprefix(PUBLIC)), 404, "body")


async def test_metadata_is_for_the_owner_or_an_admin(media: MediaApp, jake: Account) -> None:
    jane = await register(media.client, "jane")
    mine = (await upload(media, jake, files.png())).json()["upload"]

    own = await media.client.get(f"{UPLOADS}/{mine['id']}", headers=jake.auth)
    other = await media.client.get(f"{UPLOADS}/{mine['id']}", headers=jane.auth)
    deleting = await media.client.delete(f"{UPLOADS}/{mine['id']}", headers=jane.auth)

    assert own.json()["upload"] == mine
    assert_error(other, 404, "body")
    assert_error(deleting, 404, "body")
    assert (await media.client.get(f"{UPLOADS}/{mine['id']}", headers=jake.auth)).status_code == 200


async def test_the_quota_counts_references(media: MediaApp, jake: Account) -> None:
    for color in ("red", "green", "blue", "yellow", "purple"):  # the test app's quota: 5
        ok = await upload(media, jake, files.png(color=color))
        assert ok.status_code == 201, ok.text

    refused = await upload(media, jake, files.png(color="orange"))

    assert_error(refused, 422, "file")
    assert "quota" in refused.json()["errors"]["file"][0]


async def test_media_is_served_immutable_with_a_strong_etag_and_ranges(
    media: MediaApp, jake: Account
) -> None:
    url = (await upload(media, jake, files.png())).json()["upload"]["url"].removeprefix(PUBLIC)

    whole = await media.client.get(url)
    part = await media.client.get(url, headers={"Range": "bytes=0-9"})
    again = await media.client.get(url, headers={"If-None-Match": whole.headers["ETag"]})

    assert whole.headers["Content-Type"] == "image/webp"
    assert whole.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert whole.headers["ETag"].startswith('"')
    assert not whole.headers["ETag"].startswith("W/")
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in whole.headers["Content-Security-Policy"]
    assert "sandbox" in whole.headers["Content-Security-Policy"]
    assert part.status_code == 206
    assert part.content == whole.content[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(whole.content)}"
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["nothing.webp", "../../etc/passwd", "a" * 64 + ".svg"])
async def test_unknown_media_names_are_not_found(media: MediaApp, name: str) -> None:
    assert_error(await media.client.get(f"/media/{name}"), 404, "body")


@pytest.mark.parametrize(
    ("data", "filename", "why"),
    [
        (files.png_bomb(), "bomb.png", "pixels"),
        (files.real_png_bomb(), "bomb.png", "pixels"),
        (files.gif_polyglot(), "funny.gif", "decoded"),
        (files.SVG, "picture.png", "not a JPEG"),
        (files.HTML, "picture.png", "not a JPEG"),
        (files.truncated_jpeg(), "cut.jpg", "decoded"),
    ],
    ids=["png-bomb", "real-png-bomb", "gif-polyglot", "svg-as-png", "html-as-png", "truncated"],
)
async def test_hostile_or_broken_files_are_refused(
    media: MediaApp, jake: Account, data: bytes, filename: str, why: str
) -> None:
    response = await upload(media, jake, data, filename, "image/png")

    errors = assert_error(response, 422, "file")
    assert why in errors["file"][0]
    assert media.stored() == []
    assert list(media.incoming.iterdir()) == []


async def test_a_script_after_a_valid_gif_does_not_survive(media: MediaApp, jake: Account) -> None:
    response = await upload(media, jake, files.gif_with_script_appended(), "a.gif", "image/gif")

    assert response.status_code == 201, response.text
    stored = (await media.client.get(response.json()["upload"]["url"].removeprefix(PUBLIC))).content
    assert files.SCRIPT not in stored
    assert decoded(stored).format == "WEBP"


async def test_a_file_over_the_cap_is_refused_while_streaming(
    media: MediaApp, jake: Account
) -> None:
    # 6 MiB in 64 KiB chunks, without Content-Length (chunked): the cap must be applied to
    # what arrives, and the rest must never be read.
    chunk, total = 64 * 1024, 6 * 1024 * 1024
    sent = 0
    boundary = "conduit-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head + files.png()
        while sent < total:
            sent += chunk
            yield b"\x00" * chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await media.client.post(
        UPLOADS,
        content=body(),
        headers={**jake.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert_error(response, 413, "body")
    assert sent < total  # stopped at the cap, not after taking it all in
    assert sent <= 5 * 1024 * 1024 + 2 * chunk
    assert list(media.incoming.iterdir()) == []
    assert media.stored() == []


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    media: MediaApp, jake: Account
) -> None:
    response = await media.client.post(
        UPLOADS,
        content=b"x" * 1024,
        headers={
            **jake.auth,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(6 * 1024 * 1024),
        },
    )

    assert_error(response, 413, "body")


async def test_the_upload_cap_applies_to_the_upload_routes_only(
    media: MediaApp, jake: Account
) -> None:
    # 2 MiB passes on an upload route (UPLOAD_MAX_BYTES 5 MiB), not on others (MAX_BODY_BYTES).
    big = files.encoded(Image.effect_noise((1000, 700), 90).convert("RGB"), "PNG")
    assert 1024 * 1024 < len(big) < 5 * 1024 * 1024

    accepted = await upload(media, jake, big)
    elsewhere = await media.client.put(
        "/api/user", content=b"{" + b" " * len(big) + b"}", headers=jake.auth
    )

    assert accepted.status_code == 201, accepted.text
    assert_error(elsewhere, 413, "body")


def bad_bodies() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    png = files.png()
    no_file, ct = multipart(('Content-Disposition: form-data; name="title"', b"hello"))
    two, ct2 = multipart(
        ('Content-Disposition: form-data; name="file"; filename="a.png"', png),
        ('Content-Disposition: form-data; name="file"; filename="b.png"', png),
    )
    empty, ct3 = multipart(('Content-Disposition: form-data; name="file"; filename="a.png"', b""))
    wrong, ct4 = multipart(('Content-Disposition: form-data; name="image"; filename="a.png"', png))
    slash, ct5 = multipart(
        ('Content-Disposition: form-data; name="file"; filename="../../etc/a.png"', png)
    )
    windows, ct6 = multipart(
        ('Content-Disposition: form-data; name="file"; filename="C:\\\\evil\\\\a.png"', png)
    )
    nul, ct7 = multipart(('Content-Disposition: form-data; name="file"; filename="a\x00.png"', png))
    nothing, ct8 = multipart()
    return [
        ("a field but no file part", no_file, ct, 422, "file"),
        ("two files", two, ct2, 422, "file"),
        ("an empty file", empty, ct3, 422, "file"),
        ("the wrong field name", wrong, ct4, 422, "file"),
        ("a filename with slashes", slash, ct5, 422, "file"),
        ("a Windows path", windows, ct6, 422, "file"),
        ("a filename with NUL", nul, ct7, 422, "file"),
        ("no part at all", nothing, ct8, 422, "file"),
        ("JSON", b'{"file": "x"}', {"Content-Type": "application/json"}, 415, "body"),
        ("no Content-Type", png, {}, 415, "body"),
        ("no boundary", png, {"Content-Type": "multipart/form-data"}, 400, "body"),
        (
            "a body cut short",
            two[: len(two) // 2],
            ct2 | {"Content-Type": ct2["Content-Type"]},
            400,
            "body",
        ),
    ]


@pytest.mark.parametrize(
    ("case", "body", "headers", "status", "field"),
    bad_bodies(),
    ids=[case[0] for case in bad_bodies()],
)
@pytest.mark.parametrize("path", [UPLOADS, AVATAR])
async def test_bad_multipart_input_is_refused_in_the_error_schema(
    media: MediaApp,
    jake: Account,
    case: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    field: str,
    path: str,
) -> None:
    method = media.client.put if path == AVATAR else media.client.post
    response = await method(path, content=body, headers={**jake.auth, **headers})

    assert_error(response, status, field)
    assert list(media.incoming.iterdir()) == []
    assert media.stored() == []


async def test_uploading_needs_credentials(media: MediaApp) -> None:
    response = await media.client.post(UPLOADS, files={"file": ("a.png", files.png())})

    assert_error(response, 401, "body")


async def test_an_api_key_needs_the_media_write_scope(media: MediaApp, jake: Account) -> None:
    async def key(scope: str) -> str:
        created = await media.client.post(
            "/api/user/api-keys",
            json={"name": scope, "scopes": [scope]},
            headers=jake.auth,
        )
        assert created.status_code == 201, created.text
        secret: str = created.json()["apiKey"]["key"]
        return secret

    without, with_scope = await key("feed:read"), await key("media:write")
    sent = {"file": ("a.png", files.png(), "image/png")}

    refused = await media.client.post(UPLOADS, files=sent, headers={"X-API-Key": without})
    accepted = await media.client.post(UPLOADS, files=sent, headers={"X-API-Key": with_scope})

    assert_error(refused, 403, "body")
    assert accepted.status_code == 201, accepted.text


async def test_uploads_are_off_without_a_public_url(tmp_path: Path) -> None:
    async with media_app(tmp_path, public_base_url=None) as off:
        account = await register(off.client, "jake")
        response = await upload(off, account, files.png())

    assert_error(response, 404, "body")
    assert "not enabled" in response.json()["errors"]["body"][0]


async def test_the_sweep_removes_unused_uploads_after_the_grace_period(
    media: MediaApp, jake: Account
) -> None:
    used = (await upload(media, jake, files.png(color="red"))).json()["upload"]
    unused = (await upload(media, jake, files.png(color="blue"))).json()["upload"]
    avatar = (await upload(media, jake, files.png(color="green"), path=AVATAR)).json()["user"]
    await publish(media.client, jake, body=f"Look: ![red]({used['url']})")
    sweep = media.app.state.container.resolve(SweepUnusedUploads)

    assert await sweep.execute() == 0  # all of them within the grace period
    media.clock.advance(timedelta(hours=25).total_seconds())
    assert await sweep.execute() == 1

    for url in (used["url"], avatar["image"]):
        assert (await media.client.get(url.removeprefix(PUBLIC))).status_code == 200
    assert (await media.client.get(unused["url"].removeprefix(PUBLIC))).status_code == 404


async def test_the_file_cap_applies_to_the_file_not_only_to_the_body(tmp_path: Path) -> None:
    # The body cap allows the multipart framing on top of UPLOAD_MAX_BYTES: a file one byte
    # over fits in the body and must still be refused.
    async with media_app(tmp_path, upload_max_bytes=64 * 1024) as small:
        account = await register(small.client, "jake")
        response = await upload(small, account, b"\x89PNG\r\n\x1a\n" + b"\x00" * (64 * 1024 - 7))

        assert_error(response, 413, "body")
        assert "file is larger than 65536 bytes" in response.json()["errors"]["body"][0]
        assert list(small.incoming.iterdir()) == []


async def test_uploads_are_rate_limited_as_writes(tmp_path: Path) -> None:
    async with media_app(tmp_path, rate_limit_enabled=True, rate_limit_write="2/minute") as app:
        account = await register(app.client, "jake")
        statuses = [
            (await upload(app, account, files.png(color=color))).status_code
            for color in ("red", "green", "blue")
        ]
        limited = await upload(app, account, files.png(color="yellow"))

    assert statuses[:2] == [201, 201]
    assert_error(limited, 429, "body")
    assert "Retry-After" in limited.headers


async def test_with_the_s3_store_media_redirects_to_a_signed_url(
    tmp_path: Path, s3_endpoint: str
) -> None:
    async with (
        httpx2.AsyncClient(timeout=5.0) as s3_client,
        media_app(
            tmp_path,
            store=S3MediaStore(
                s3_client,
                S3Location(s3_endpoint, BUCKET, prefix="api-test/"),
                access_key_id=KEY_ID,
                secret_access_key=SECRET,
            ),
        ) as app,
    ):
        account = await register(app.client, "jake")
        url = (await upload(app, account, files.png())).json()["upload"]["url"]
        redirect = await app.client.get(url.removeprefix(PUBLIC))
        signed = redirect.headers["Location"]
        served = await s3_client.get(signed)

    assert redirect.status_code == 302
    assert signed.startswith(f"{s3_endpoint}/{BUCKET}/api-test/")
    assert "X-Amz-Signature=" in signed
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert decoded(served.content).format == "WEBP"
    assert app.stored() == []  # nothing on the local disk

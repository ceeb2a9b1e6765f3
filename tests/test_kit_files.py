"""The files kit without a server: sniffing, images re-encoded, sealed segments, names and download headers."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from shared.errors import ApiError
from shared.files.checks import safe_filename
from shared.files.images import reencode
from shared.files.sealed import SEGMENT, FileDamaged, SealingReader, new_file_key, opened, sealed_size
from shared.files.serve import content_disposition
from shared.files.settings import DEFAULT_TYPES, media_types
from shared.files.sniff import sniff
from shared.files.uploads import upload_directory
from tests.support.files import GPS_IFD, MAKE, bomb_png, docx, exif_of, image_size, odt, pdf, photo, plain_zip, xlsx


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (photo("JPEG"), "image/jpeg"),
        (photo("PNG"), "image/png"),
        (photo("WEBP"), "image/webp"),
        (pdf(), "application/pdf"),
        (b"Jalan berlubang di depan sekolah.\nMohon diperbaiki.\n", "text/plain"),
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (odt(), "application/vnd.oasis.opendocument.text"),
        (plain_zip(), "application/zip"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), "application/x-msdownload"),
        (b"\x00\x01\x02binary", None),
        (b"teks\x1bdengan kendali", None),
    ],
)
def test_the_type_comes_from_the_content(data: bytes, expected: str | None) -> None:
    assert sniff(data[:8192]) == expected


def test_the_default_list_takes_the_office_and_image_types_and_no_archive() -> None:
    allowed = media_types(DEFAULT_TYPES)
    assert {"image/jpeg", "image/png", "image/webp", "application/pdf", "text/plain"} <= allowed
    assert "application/zip" not in allowed and "application/x-msdownload" not in allowed
    assert len(allowed) == 11


def test_an_image_loses_its_metadata_and_stands_upright(tmp_path: Path) -> None:
    source, target = tmp_path / "in", tmp_path / "out"
    original = photo("JPEG", (64, 32), orientation=6)
    assert exif_of(original).get_ifd(GPS_IFD) and exif_of(original)[MAKE] == "KameraPonsel"
    source.write_bytes(original)
    reencode(source, target, "image/jpeg", 1_000_000)
    cleaned = target.read_bytes()
    assert dict(exif_of(cleaned)) == {}
    assert b"KameraPonsel" not in cleaned and b"Exif" not in cleaned
    assert image_size(cleaned) == (32, 64), "orientation 6 turns the landscape photo upright"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_lose_their_metadata_too(tmp_path: Path, fmt: str) -> None:
    source, target = tmp_path / "in", tmp_path / "out"
    source.write_bytes(photo(fmt, orientation=1))
    reencode(source, target, f"image/{fmt.lower()}", 1_000_000)
    with Image.open(target) as image:
        assert image.format == fmt
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info


def test_a_decompression_bomb_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "bomb.png"
    source.write_bytes(bomb_png(10000, 10000))
    with pytest.raises(ApiError) as refused:
        reencode(source, tmp_path / "out", "image/png", 40_000_000)
    assert refused.value.status_code == 422 and refused.value.code == "image_too_large"


def test_a_broken_image_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "broken.jpg"
    source.write_bytes(photo("JPEG")[:200])
    with pytest.raises(ApiError) as refused:
        reencode(source, tmp_path / "out", "image/jpeg", 40_000_000)
    assert refused.value.status_code == 422 and refused.value.code == "invalid_image"


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _seal(data: bytes, key: bytes) -> bytes:
    return SealingReader(io.BytesIO(data), key).read()


async def _open(sealed: bytes, key: bytes, chunk: int = 7000) -> bytes:
    return b"".join([part async for part in opened(key, _chunks(sealed, chunk))])


@pytest.mark.parametrize("size", [1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17])
async def test_a_sealed_file_opens_to_what_went_in(size: int) -> None:
    data, key = os.urandom(size), new_file_key()
    sealed = _seal(data, key)
    assert len(sealed) == sealed_size(size)
    assert size < 16 or data[:16] not in sealed
    assert await _open(sealed, key) == data
    assert await _open(sealed, key, chunk=len(sealed)) == data


async def test_a_sealed_file_that_was_changed_cut_or_reordered_does_not_open() -> None:
    data, key = os.urandom(3 * SEGMENT + 5), new_file_key()
    sealed = bytearray(_seal(data, key))
    flipped = bytes(sealed[:100]) + bytes([sealed[100] ^ 1]) + bytes(sealed[101:])
    cut = bytes(sealed[: 4 + 2 * (SEGMENT + 16)])
    swapped = bytes(sealed[:4]) + bytes(sealed[4 + SEGMENT + 16 : 4 + 2 * (SEGMENT + 16)])
    swapped += bytes(sealed[4 : 4 + SEGMENT + 16]) + bytes(sealed[4 + 2 * (SEGMENT + 16) :])
    for damaged in (flipped, cut, swapped, b"", b"SPF1"):
        with pytest.raises(FileDamaged):
            await _open(damaged, key)
    with pytest.raises(FileDamaged):
        await _open(bytes(sealed), new_file_key())


def test_a_served_name_keeps_the_given_stem_and_takes_the_sniffed_extension() -> None:
    assert safe_filename("foto jalan.PNG", "application/pdf") == "foto jalan.pdf"
    assert safe_filename("laporan", "text/plain") == "laporan.txt"
    assert safe_filename(None, "image/jpeg") == "lampiran.jpg"
    assert safe_filename("..", "image/jpeg") == "lampiran.jpg"
    assert safe_filename("arsip.tar.gz", "image/png") == "arsip.tar.png"


def test_the_download_name_is_quoted_safely() -> None:
    header = content_disposition('bukti "pungli"; x.pdf')
    assert header.startswith("attachment; filename=")
    assert '"bukti _pungli__ x.pdf"' in header
    assert "filename*=UTF-8''bukti%20%22pungli%22%3B%20x.pdf" in header
    assert content_disposition("kuitansi ü.pdf").endswith("kuitansi%20%C3%BC.pdf")


def test_the_upload_folder_starts_empty_even_when_an_earlier_process_had_this_pid(tmp_path: Path) -> None:
    base = tmp_path / "uploads"
    # A container's service is pid 1 again after a restart, on the same file system: its old folder is this one's.
    earlier = base / str(os.getpid())
    earlier.mkdir(parents=True)
    (earlier / "partial-upload").write_bytes(b"half a photo")
    dead = base / "4194305"  # above Linux's largest pid: no process has it
    dead.mkdir()
    (dead / "partial-upload").write_bytes(b"half a letter")

    mine = upload_directory(base)
    assert mine == earlier and not any(mine.iterdir()), "what the earlier process left is gone"
    assert not dead.exists()

    (mine / "in-flight").write_bytes(b"an upload of this process")
    assert upload_directory(base) == mine and (mine / "in-flight").exists(), "a second app of this process keeps it"

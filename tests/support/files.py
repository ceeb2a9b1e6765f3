"""Files for the attachment tests, made by the test: photos with GPS in their EXIF, documents of each accepted type."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
GPS = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 5.0)}
"""Somewhere in Jakarta: what a reporter's photo must not give away."""


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 32), *, orientation: int = 6, gps: bool = True) -> bytes:
    """A photo as a phone takes it: EXIF with GPS, the camera's make, and an orientation to apply (6: turn 90°)."""
    image = Image.new("RGB", size, (200, 40, 40))
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (20, 20, 220))
    exif = Image.Exif()
    exif[MAKE] = "KameraPonsel"
    exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = GPS
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def pdf(text: str = "Kuitansi pungutan liar") -> bytes:
    body = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n"
        b"4 0 obj\n<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _zip(entries: list[tuple[str, str]], *, stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=kind)
    return out.getvalue()


def docx() -> bytes:
    return _zip([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<r/>"), ("word/document.xml", "<w/>")])


def xlsx() -> bytes:
    return _zip([("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<r/>"), ("xl/workbook.xml", "<w/>")])


def odt() -> bytes:
    return _zip(
        [("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office/>")], stored_first=True
    )


def plain_zip() -> bytes:
    return _zip([("catatan.txt", "bukan dokumen kantor")])


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A small PNG that decodes to width x height pixels (400 million by default): a decompression bomb."""
    image = Image.new("1", (width, height))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()

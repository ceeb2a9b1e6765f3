"""Images re-encoded with Pillow: the orientation applied, every bit of metadata (EXIF and its GPS position, XMP,
comments, colour profiles) left behind, and the original never kept."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import ApiError

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
JPEG_QUALITY = 90


def is_image(media_type: str) -> bool:
    return media_type in FORMATS


def reencode(source: Path, target: Path, media_type: str, max_pixels: int) -> None:
    """Write `source` again to `target` in its own format, upright and without metadata. 422 for an image larger than
    `max_pixels` (a decompression bomb) or one that does not decode."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=[FORMATS[media_type]]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise _too_large(width, height, max_pixels)
                image.load()
                upright = ImageOps.exif_transpose(image)
                _save(upright, target, FORMATS[media_type])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_large(0, 0, max_pixels) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ApiError(
                422,
                "invalid_image",
                "gambar ini rusak atau tidak dapat dibaca; this image is broken or cannot be read",
            ) from exc


def _save(image: Image.Image, target: Path, fmt: str) -> None:
    clean = image.copy()
    clean.info = {}
    if fmt == "JPEG" and clean.mode not in ("RGB", "L", "CMYK"):
        clean = clean.convert("RGB")
    if fmt == "PNG" and clean.mode == "CMYK":
        clean = clean.convert("RGB")
    options: dict[str, object] = {"quality": JPEG_QUALITY} if fmt in ("JPEG", "WEBP") else {"optimize": False}
    clean.save(target, fmt, **options)


def _too_large(width: int, height: int, max_pixels: int) -> ApiError:
    size = f" ({width}x{height})" if width and height else ""
    return ApiError(
        422,
        "image_too_large",
        f"gambar terlalu besar{size}, paling banyak {max_pixels} piksel; the image is too large{size}, at most"
        f" {max_pixels} pixels",
    )

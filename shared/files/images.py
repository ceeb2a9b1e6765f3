"""Images re-encoded with Pillow: the orientation applied, every bit of metadata (EXIF and its GPS position, XMP,
comments, colour profiles) left behind, and the original never kept."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import ApiError

# The pixel limit is checked from the header before decoding (below); Pillow's own warning would only repeat it.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
JPEG_QUALITY = 90
STORED_PIXELS = 12_600_000
"""A JPEG photo larger than this (a phone's 12 MP is 12.2 million) is stored at a half or a quarter of its size."""


def is_image(media_type: str) -> bool:
    return media_type in FORMATS


def reencode(source: Path, target: Path, media_type: str, max_pixels: int) -> None:
    """Write `source` again to `target` in its own format, upright and without metadata. 422 for an image larger than
    `max_pixels` (a decompression bomb) or one that does not decode."""
    try:
        with Image.open(source, formats=[FORMATS[media_type]]) as image:
            # The size is in the header: a bomb is refused before a pixel is decoded.
            width, height = image.size
            if width * height > max_pixels:
                raise _too_large(width, height, max_pixels)
            if image.format == "JPEG" and width * height > STORED_PIXELS:
                # Decoded at a half or a quarter of its size (JPEG's own scaling): what is stored stays under
                # STORED_PIXELS, and so does the memory one photo takes.
                scale = 2
                while width * height > STORED_PIXELS * scale * scale and scale < 8:
                    scale *= 2
                image.draft("RGB", (-(-width // scale), -(-height // scale)))
            image.load()
            # In place, and saved from this one copy: a decoded photo is the memory an upload costs.
            ImageOps.exif_transpose(image, in_place=True)
            _save(image, target, FORMATS[media_type])
    except Image.DecompressionBombError as exc:
        raise _too_large(0, 0, max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ApiError(
            422,
            "invalid_image",
            "gambar ini rusak atau tidak dapat dibaca; this image is broken or cannot be read",
        ) from exc


def _save(image: Image.Image, target: Path, fmt: str) -> None:
    # Pillow writes the metadata it is given, and what `info` holds; only a palette's transparency is kept.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    if fmt == "PNG" and image.mode == "CMYK":
        image = image.convert("RGB")
    options: dict[str, object] = {"quality": JPEG_QUALITY} if fmt in ("JPEG", "WEBP") else {"optimize": False}
    image.save(target, fmt, **options)


def _too_large(width: int, height: int, max_pixels: int) -> ApiError:
    size = f" ({width}x{height})" if width and height else ""
    return ApiError(
        422,
        "image_too_large",
        f"gambar terlalu besar{size}, paling banyak {max_pixels} piksel; the image is too large{size}, at most"
        f" {max_pixels} pixels",
    )

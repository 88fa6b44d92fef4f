"""Load contract pages (images, PDFs) and prepare them for OCR. No Qt.

Loading keeps memory bounded: JPEGs are decoded at a reduced scale (`draft`) and
every page is shrunk to at most `MAX_SIDE` pixels before any heavy work. Preparation
finds the sheet of paper in a photo and straightens it, removes red seals, evens out
the lighting, deskews and stretches the contrast.

Raises the CaptureError subclasses from desktop.capture.errors with messages for the user.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop.capture.camera_photos import display_name, is_sealed, read_capture
from desktop.capture.errors import (
    NotAnImageError,
    PasswordProtectedError,
    TruncatedFileError,
)
from desktop.errors import CaptureError

MAX_SIDE = 4000  # longest side kept after loading (a 100 MP photo becomes ~13 MP)
PAGE_WIDTH = 1650  # width of a prepared page (about 200 dpi for A4)
PDF_DPI = 200
MAX_PAGES = 200
BLANK_INK_RATIO = 0.002  # fewer dark pixels than this: the page is blank
WHITE_CLIP = 0.8  # after the stretch, grays lighter than this share of the range go white

_heif_registered = False


@dataclass
class Page:
    """One loaded page. `image` is RGB uint8 (H, W, 3)."""

    image: np.ndarray
    source: str  # file name
    index: int  # page number within the whole contract, from 0
    original_size: tuple[int, int]  # (width, height) before downscaling


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        try:
            import pi_heif  # decode-only: FieldCRM reads iPhone photos, never writes HEIC

            pi_heif.register_heif_opener()
        except ImportError:  # pragma: no cover - HEIC support is optional at run time
            pass
        _heif_registered = True


def load_pages(paths: list[Path], *, profile: Path | None = None) -> list[Page]:
    """All pages of the given files, in order, forming one contract. A camera photo
    sealed in `profile` (desktop.capture.camera_photos) is decrypted in memory.

    Raises NotAnImageError, TruncatedFileError, PasswordProtectedError or CaptureError.
    """
    if not paths:
        raise CaptureError("No file given: choose the photo(s) or scan of the contract.")
    pages: list[Page] = []
    for path in paths:
        frames = (_load_sealed(Path(path), profile) if is_sealed(Path(path))
                  else _load_file(Path(path)))
        for image, size in frames:
            pages.append(Page(image, display_name(Path(path)), len(pages), size))
            if len(pages) > MAX_PAGES:
                raise CaptureError(
                    f"More than {MAX_PAGES} pages: split the contract into smaller files.")
    return pages


def _load_file(path: Path) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError as exc:
        raise CaptureError(f"{path.name}: file not found.") from exc
    except OSError as exc:
        raise CaptureError(f"{path.name} cannot be read ({exc.strerror}).") from exc
    if not head:
        raise NotAnImageError(f"{path.name} is empty (0 bytes). Use the original photo or scan.")
    if head.startswith(b"%PDF"):
        yield from _load_pdf(path)
    else:
        yield from _load_image(path)


def _load_sealed(path: Path, profile: Path | None) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    data = read_capture(path, profile)
    _register_heif()
    with _translated(display_name(path)), Image.open(io.BytesIO(data)) as img:
        size = img.size
        frame = _decode_frame(img)
    yield frame, size


def _load_image(path: Path) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    """Frames one at a time (a long TIFF never sits in memory whole)."""
    _register_heif()
    with _translated(path.name):
        img = Image.open(path)
    with img:
        for i in range(getattr(img, "n_frames", 1)):
            with _translated(path.name):
                if i:
                    img.seek(i)
                size = img.size  # before `draft` shrinks it
                frame = _decode_frame(img)
            yield frame, size


@contextmanager
def _translated(name: str) -> Iterator[None]:
    """Pillow's errors as CaptureErrors; its decompression-bomb warning silenced (the
    image is shrunk on decode), its hard limit reported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except UnidentifiedImageError as exc:
        raise NotAnImageError(
            f"{name} is not an image FieldCRM can read. Use a JPEG, PNG, HEIC or TIFF "
            "photo, or a PDF scan.") from exc
    except Image.DecompressionBombError as exc:
        raise CaptureError(
            f"{name} is too large to open safely (over {2 * (Image.MAX_IMAGE_PIXELS or 0) // 10**6}"
            " megapixels). Save a smaller copy and try again.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise TruncatedFileError(
            f"{name} is damaged or incomplete and cannot be read ({exc}). Copy the original "
            "file again and retry.") from exc


def _decode_frame(img: Image.Image) -> np.ndarray:
    """Decode at bounded size, honouring EXIF orientation; returns RGB."""
    if img.format == "JPEG":
        img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
    img.load()
    img = ImageOps.exif_transpose(img) or img
    if img.mode not in ("RGB", "L"):
        img = (img.convert("RGBA") if "A" in img.getbands() or img.mode == "P"
               else img.convert("RGB"))
        if img.mode == "RGBA":  # transparent parts are paper, not black
            bg = Image.new("RGB", img.size, "white")
            bg.paste(img, mask=img.getchannel("A"))
            img = bg
    if img.mode == "L":
        img = img.convert("RGB")
    if max(img.size) > MAX_SIDE:
        img = img.copy()
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[0] < 16 or arr.shape[1] < 16:
        raise NotAnImageError("The image is too small to hold a contract page.")
    return arr


def _load_pdf(path: Path) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        text = str(exc).lower()
        if "password" in text:
            raise PasswordProtectedError(
                f"{path.name} is password-protected. Open it, save an unprotected copy, and "
                "capture that copy.") from exc
        raise TruncatedFileError(
            f"{path.name} is a damaged PDF and cannot be read. Export or scan it again.") from exc
    try:
        if len(pdf) == 0:
            raise CaptureError(f"{path.name} has no pages.")
        for i in range(len(pdf)):
            page = pdf[i]
            w, h = page.get_size()
            scale = min(PDF_DPI / 72, MAX_SIDE / max(w, h, 1))
            bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
            arr = np.array(bitmap.to_pil().convert("RGB"), dtype=np.uint8)
            yield arr, (int(w * PDF_DPI / 72), int(h * PDF_DPI / 72))
            page.close()
    except pdfium.PdfiumError as exc:
        raise TruncatedFileError(f"{path.name}: a page could not be rendered ({exc}).") from exc
    finally:
        pdf.close()


def load_bytes(data: bytes, name: str = "image") -> np.ndarray:
    """Decode one image held in memory (first frame), e.g. a camera frame."""
    _register_heif()
    with _translated(name), Image.open(io.BytesIO(data)) as img:
        return _decode_frame(img)


# ------------------------------------------------------------------ preparation
def _order_quad(pts: np.ndarray) -> np.ndarray:
    pts = pts.reshape(4, 2).astype(np.float32)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
                    dtype=np.float32)


def find_page_quad(rgb: np.ndarray) -> np.ndarray | None:
    """Corners (tl, tr, br, bl) of the sheet of paper in a photo, or None when the image
    is already just the page (a scan) or no clear sheet is visible.

    A quad is accepted only if it has a sheet's proportions (PAGE_RATIO) and no text lies
    outside it: the edge of a hand's or a phone's shadow, or of a glare patch, makes a
    straight line that looks like the sheet's edge, and cropping to it would cut away
    what lies under the shadow. Then the page is not cropped at all (None)."""
    h, w = rgb.shape[:2]
    scale = 600 / max(h, w)
    small = cv2.resize(rgb, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    area_img = gray.shape[0] * gray.shape[1]
    candidates = []
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    edges = cv2.dilate(cv2.Canny(gray, 40, 120), np.ones((3, 3), np.uint8))
    for src in (mask, edges):
        contours, _ = cv2.findContours(src, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
            hull = cv2.convexHull(c)
            area = cv2.contourArea(hull)
            if not 0.3 * area_img < area < 0.97 * area_img:
                continue
            peri = cv2.arcLength(hull, True)
            for eps in (0.02, 0.03, 0.05):
                approx = cv2.approxPolyDP(hull, eps * peri, True)
                if len(approx) == 4:
                    if sheet_proportions(_order_quad(approx)):
                        candidates.append((area, _order_quad(approx)))
                    break
    if not candidates:
        return None
    ink: np.ndarray | None = None
    for _, quad_small in sorted(candidates, key=lambda t: -t[0]):
        quad = quad_small / scale
        # A quad that hugs the image border is the whole image: nothing to straighten.
        margin = 0.015 * max(h, w)
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        if np.all(np.linalg.norm(quad - corners, axis=1) < margin * 2):
            return None
        if ink is None:
            ink = text_mask(rgb)
        if not cuts_text(ink, quad * (ink.shape[1] / w)):
            return quad
    return None


PAGE_RATIO = (1.15, 1.8)  # height / width of a portrait sheet as photographed (A4 1.41,
# Letter 1.29, Legal 1.65; a tilted camera shortens or stretches it a little)
TEXT_OUTSIDE_MAX = 0.01  # share of the photo's ink a page quad may leave outside itself
TEXT_MASK_SIDE = 1000  # text is looked for on the photo shrunk to this longest side


def sheet_proportions(quad: np.ndarray) -> bool:
    """Whether an ordered quad (tl, tr, br, bl) has the proportions of a sheet of paper,
    upright or on its side, with opposite sides of similar length (a perspective, not a
    strip cut off by a shadow)."""
    tl, tr, br, bl = quad
    top, bottom = float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl))
    left, right = float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr))
    if min(top, bottom, left, right) < 1:
        return False
    if max(top, bottom) / min(top, bottom) > 1.35 or max(left, right) / min(left, right) > 1.35:
        return False
    ratio = (left + right) / (top + bottom)
    lo, hi = PAGE_RATIO
    return lo <= ratio <= hi or lo <= 1 / ratio <= hi


def text_mask(rgb: np.ndarray) -> np.ndarray:
    """Where a photo has ink: small marks clearly darker than the paper (or desk) around
    them, found against a background that keeps the hard edges of shadows and sheets.
    Returns a uint8 mask (255 = ink) at TEXT_MASK_SIDE pixels on the longest side."""
    h, w = rgb.shape[:2]
    scale = min(1.0, TEXT_MASK_SIDE / max(h, w))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scale < 1:
        gray = cv2.resize(gray, (max(1, int(w * scale)), max(1, int(h * scale))),
                          interpolation=cv2.INTER_AREA)
    k = max(9, round(0.016 * max(gray.shape)) | 1)  # wider than a character's strokes
    bg = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    ratio = gray.astype(np.float32) / np.maximum(bg.astype(np.float32), 1)
    ink = ((ratio < 0.62) & (bg > 25)).astype(np.uint8) * 255
    # Keep marks of a character's size; drop specks (noise) and long dark shapes (edges,
    # fingers, desk furniture).
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    big = max(4, k * 3)
    keep = np.zeros(n, bool)
    keep[1:] = ((stats[1:, cv2.CC_STAT_AREA] >= 3) & (stats[1:, cv2.CC_STAT_WIDTH] <= big)
                & (stats[1:, cv2.CC_STAT_HEIGHT] <= big))
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def cuts_text(ink: np.ndarray, quad: np.ndarray) -> bool:
    """Whether more than TEXT_OUTSIDE_MAX of the ink lies outside the quad (given in the
    mask's pixels): a quad that cuts text lines is not the sheet's edge."""
    total = int(np.count_nonzero(ink))
    if total == 0:
        return False
    inside = np.zeros_like(ink)
    grown = quad.mean(axis=0) + (quad - quad.mean(axis=0)) * 1.01  # JPEG, anti-aliasing
    cv2.fillConvexPoly(inside, np.round(grown).astype(np.int32), 255)
    outside = int(np.count_nonzero(ink & ~inside))
    return outside > TEXT_OUTSIDE_MAX * total


def warp_page(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    tl, tr, br, bl = quad
    width = max(float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl)))
    height = max(float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr)))
    out_w = PAGE_WIDTH
    out_h = round(height / max(width, 1) * out_w)
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(rgb, m, (out_w, out_h), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def suppress_red(rgb: np.ndarray) -> np.ndarray:
    """Grayscale where red ink (seals, stamps) turns to paper but black text under it
    stays dark: red pixels take their (bright) red channel instead of the luminance."""
    r = rgb[:, :, 0].astype(np.int16)
    g = rgb[:, :, 1].astype(np.int16)
    b = rgb[:, :, 2].astype(np.int16)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    redness = r - np.maximum(g, b)
    # Red relative to its brightness too: a seal under a hand's shadow is dark red.
    red = (((redness > 22) & (r > 70)) | ((redness * 10 > 3 * r) & (r > 30))).astype(np.uint8)
    red = cv2.dilate(red, np.ones((5, 5), np.uint8)).astype(bool)  # JPEG blurs the edges
    out = gray.copy()
    # Seal ink reflects ~80 % in red: lift it close to (not above: that would upset
    # flatten_light) the paper; black text under it stays dark.
    lifted = (r[red].astype(np.float32) * 1.12).clip(0, 255).astype(np.uint8)
    out[red] = np.maximum(gray[red], lifted)
    return out


def flatten_light(gray: np.ndarray) -> np.ndarray:
    """Divide by the estimated paper brightness so shadows and gradients vanish and text
    under a shadow reads like text in the light.

    The paper's brightness is a large-kernel background estimate at half size: a closing
    (maximum, then minimum filter) wider than a character removes the text, and keeps a
    hard shadow's edge where it is (a maximum alone moves it into the shadow, drawing a
    dark band across the text beside it); a median then smooths it, again without moving
    edges."""
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    k = max(9, (small.shape[1] // 40) | 1)  # about a character and a half on a page
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE,
                          cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.medianBlur(bg, 2 * k + 1)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def noise_sigma(gray: np.ndarray) -> float:
    """Rough noise level (Immerkaer's method) on a centre crop."""
    h, w = gray.shape
    crop = gray[h // 4: h // 4 + 400, w // 4: w // 4 + 400].astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    conv = cv2.filter2D(crop, -1, kernel)
    return float(np.sqrt(np.pi / 2) * np.mean(np.abs(conv)) / 6)


def estimate_skew(gray: np.ndarray) -> float:
    """Skew angle in degrees (text lines' tilt), by the sharpest row projection."""
    h, w = gray.shape
    scale = 800 / w
    small = cv2.resize(gray, (800, max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    centre = (binary.shape[1] / 2, binary.shape[0] / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rot = cv2.warpAffine(binary, m, (binary.shape[1], binary.shape[0]), flags=cv2.INTER_NEAREST)
        rows = rot.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(rows) ** 2))

    best = max(np.arange(-10, 10.01, 1.0), key=score)
    best = max(np.arange(best - 1, best + 1.01, 0.2), key=score)
    return float(best)


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def is_blank(gray: np.ndarray) -> bool:
    """Whether a prepared page holds no text. Looked at 800 pixels wide: thinner than that,
    a light typeface on a photo that was not cropped (the sheet smaller in the frame)
    fades to gray and the page passed for blank."""
    small = cv2.resize(gray, (800, max(1, int(gray.shape[0] * 800 / gray.shape[1]))),
                       interpolation=cv2.INTER_AREA)
    dark = np.count_nonzero(small < 128)
    return bool(dark < BLANK_INK_RATIO * small.size or float(small.std()) < 4)


def prepare(rgb: np.ndarray) -> np.ndarray:
    """A straight, evenly lit, high-contrast grayscale page PAGE_WIDTH pixels wide."""
    quad = find_page_quad(rgb)
    if quad is not None:
        rgb = warp_page(rgb, quad)
    else:
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (PAGE_WIDTH, max(1, int(h * PAGE_WIDTH / w))),
                         interpolation=cv2.INTER_AREA if w > PAGE_WIDTH else cv2.INTER_CUBIC)
    gray = suppress_red(rgb)
    if noise_sigma(gray) > 6:
        gray = cv2.bilateralFilter(gray, 5, 40, 5)  # edge-preserving; NL-means costs seconds
    gray = flatten_light(gray)
    angle = estimate_skew(gray)
    if abs(angle) >= 0.3:
        gray = rotate(gray, angle)
    lo, hi = np.percentile(gray, (1, 99.5))
    if hi - lo > 10:
        # Stretch so the paper is white; faint remains (seal edges, stains) above
        # WHITE_CLIP of the range go white too.
        span = (hi - lo) * WHITE_CLIP
        gray = cv2.convertScaleAbs(gray, alpha=255.0 / span, beta=-lo * 255.0 / span)
    return gray

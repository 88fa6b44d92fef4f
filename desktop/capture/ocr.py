"""OCR engines behind one interface: Tesseract (pytesseract) and RapidOCR (PP-OCR).

`get_engine("auto")` returns the best engine available: RapidOCR reads Chinese
contracts far better; Tesseract is the fallback. Neither downloads anything: RapidOCR
must find its models inside its wheel, Tesseract its `chi_sim` and `eng` data.

Raises OcrEngineMissingError with what to install when an engine cannot run.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from desktop.capture.errors import OcrEngineMissingError
from desktop.capture.ocr_engines import ENGINES as ENGINES
from desktop.errors import CaptureError

TESSERACT_LANGS = ("chi_sim", "eng")
REFINE_BELOW = 0.9  # Tesseract lines less sure than this get a second, Chinese-only look
REFINE_MAX = 12
TESSERACT_TIMEOUT_S = 300  # a page; a hung Tesseract must not hold the capture for ever
INSTALL_TESSERACT = ("Install Tesseract with its Chinese and English data "
                     "(Debian/Ubuntu: sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim "
                     "tesseract-ocr-eng; Windows/macOS: the Tesseract installer with "
                     "'Chinese - Simplified' selected).")


@dataclass(frozen=True)
class OcrLine:
    """A run of text on one page; `bbox` is (x0, y0, x1, y1) in prepared-page pixels."""

    text: str
    confidence: float  # 0..1
    bbox: tuple[int, int, int, int]
    page: int


class OcrEngine(Protocol):
    name: str

    def recognize(self, gray: np.ndarray, page: int) -> list[OcrLine]:
        """Text lines of a prepared grayscale page."""
        ...


# ------------------------------------------------------------------ Tesseract
class TesseractEngine:
    name = "tesseract"

    def __init__(self) -> None:
        import pytesseract

        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # several threads are slower here
        self._pt = pytesseract
        try:
            pytesseract.get_tesseract_version()
            langs = set(pytesseract.get_languages(config=""))
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrEngineMissingError(
                f"The Tesseract program was not found. {INSTALL_TESSERACT}") from exc
        except pytesseract.TesseractError as exc:
            raise OcrEngineMissingError(
                f"Tesseract does not run ({exc}). {INSTALL_TESSERACT}") from exc
        missing = [lang for lang in TESSERACT_LANGS if lang not in langs]
        if missing:
            pkgs = " ".join("tesseract-ocr-" + m.replace("_", "-") for m in missing)
            raise OcrEngineMissingError(
                f"Tesseract lacks the language data {', '.join(missing)}. Install it "
                f"(Debian/Ubuntu: sudo apt-get install {pkgs}), or put "
                f"{', '.join(m + '.traineddata' for m in missing)} in the tessdata folder.")

    def recognize(self, gray: np.ndarray, page: int) -> list[OcrLine]:
        try:
            data = self._data(gray, "+".join(TESSERACT_LANGS), psm=3)
        except CaptureError as exc:
            raise CaptureError(f"Tesseract failed on page {page + 1}: {exc.message}") from exc
        return self.refine(gray, self._lines(data, page))

    def _data(self, image: np.ndarray, lang: str, *, psm: int) -> dict[str, list[Any]]:
        """Tesseract's words and boxes (pytesseract's Output.DICT) for `image`, which goes
        to the program through a pipe and comes back through one: `image_to_data` would
        leave the contract page and its text as plain files in the temp folder while it
        runs, and for good if the app is killed then."""
        ok, png = cv2.imencode(".png", image)
        if not ok:
            raise CaptureError("The page could not be prepared for Tesseract.")
        kwargs = self._pt.pytesseract.subprocess_args()  # no console window on Windows
        kwargs.pop("stdin", None)
        try:
            proc = subprocess.run(
                [self._pt.pytesseract.tesseract_cmd, "stdin", "stdout", "-l", lang, "--oem",
                 "1", "--psm", str(psm), "tsv"],
                input=png.tobytes(), timeout=TESSERACT_TIMEOUT_S, check=False, **kwargs)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CaptureError(str(exc)) from exc
        if proc.returncode != 0:
            raise CaptureError(proc.stderr.decode("utf-8", "replace").strip()[-300:]
                               or f"exit status {proc.returncode}")
        tsv = proc.stdout.decode("utf-8", "replace")
        data: dict[str, list[Any]] = self._pt.pytesseract.file_to_dict(tsv, "\t", -1)
        return data or {"text": []}

    @staticmethod
    def _lines(data: dict[str, list[Any]], page: int) -> list[OcrLine]:
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if word and word.strip() and float(data["conf"][i]) >= 0:
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                groups.setdefault(key, []).append(i)
        lines = []
        for idx in groups.values():
            text = ""
            for i in idx:
                w = data["text"][i].strip()
                if text and _needs_space(text[-1], w[0]):
                    text += " "
                text += w
            x0 = min(data["left"][i] for i in idx)
            y0 = min(data["top"][i] for i in idx)
            x1 = max(data["left"][i] + data["width"][i] for i in idx)
            y1 = max(data["top"][i] + data["height"][i] for i in idx)
            conf = float(np.mean([float(data["conf"][i]) for i in idx])) / 100
            lines.append(OcrLine(text, conf, (x0, y0, x1, y1), page))
        return lines


    def refine(self, gray: np.ndarray, lines: list[OcrLine]) -> list[OcrLine]:
        """Second look at doubtful Chinese lines with `chi_sim` alone: the mixed model
        turns Chinese capitals (壹, 贰) and labels (大写, 甲方) into Latin garbage. The
        crops go to Tesseract stacked in one image (one process start)."""
        doubtful = [i for i, ln in enumerate(lines) if ln.confidence < REFINE_BELOW
                    and any(ord(c) > 0x2E80 for c in ln.text)][:REFINE_MAX]
        if not doubtful:
            return lines
        crops, spans, y = [], [], 0
        width = 0
        for i in doubtful:
            x0, y0, x1, y1 = lines[i].bbox
            crop = gray[max(0, y0 - 6): y1 + 6, max(0, x0 - 6): x1 + 6]
            crop = cv2.resize(crop, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
            crops.append(crop)
            spans.append((y, y + crop.shape[0]))
            y += crop.shape[0] + 40
            width = max(width, crop.shape[1])
        sheet = np.full((y, width + 40), 255, np.uint8)
        for crop, (top, bottom) in zip(crops, spans, strict=True):
            sheet[top:bottom, 20: 20 + crop.shape[1]] = crop
        try:
            data = self._data(sheet, "chi_sim", psm=6)
        except CaptureError:
            return lines
        out = list(lines)
        for i, (top, bottom) in zip(doubtful, spans, strict=True):
            idx = [k for k, w in enumerate(data["text"])
                   if w.strip() and float(data["conf"][k]) >= 0
                   and top <= data["top"][k] + data["height"][k] / 2 <= bottom]
            if not idx:
                continue
            idx.sort(key=lambda k: data["left"][k])
            text = ""
            for k in idx:
                w = data["text"][k].strip()
                if text and _needs_space(text[-1], w[0]):
                    text += " "
                text += w
            conf = float(np.mean([float(data["conf"][k]) for k in idx])) / 100
            if conf >= lines[i].confidence - 0.05:
                out[i] = OcrLine(text, conf, lines[i].bbox, lines[i].page)
        return out


def _needs_space(a: str, b: str) -> bool:
    """Tesseract splits words by spaces; keep them only between Latin letters/digits."""
    return ((a.isascii() and a.isalnum()) or a in ".,)") and (b.isascii() and b.isalnum())


# ------------------------------------------------------------------ RapidOCR
_rapid_lock = threading.Lock()
_rapid_instance: object | None = None


def _rapid_models_present() -> bool:
    try:
        import rapidocr
    except ImportError:
        return False
    models = Path(rapidocr.__file__).parent / "models"
    return len([p for p in models.glob("*.onnx") if p.stat().st_size > 100_000]) >= 3


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        global _rapid_instance
        if not _rapid_models_present():
            raise OcrEngineMissingError(
                "RapidOCR or its models are not installed (the models must come inside the "
                "rapidocr package; FieldCRM never downloads them). Reinstall FieldCRM, or use "
                "--engine tesseract.")
        with _rapid_lock:
            if _rapid_instance is None:
                try:
                    from rapidocr import RapidOCR

                    threads = min(2, os.cpu_count() or 1)
                    _rapid_instance = RapidOCR(params={
                        "Global.log_level": "error",
                        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        # Detect on at most 1280 px (pages are 1650 px wide): half the
                        # time, same fields; recognition still reads full-size crops.
                        "Det.limit_type": "max",
                        "Det.limit_side_len": 1280,
                    })
                except Exception as exc:  # a broken install of a third-party engine
                    raise OcrEngineMissingError(
                        f"RapidOCR could not start ({exc}). Reinstall FieldCRM, or use "
                        "--engine tesseract.") from exc
            self._ocr = _rapid_instance

    def recognize(self, gray: np.ndarray, page: int) -> list[OcrLine]:
        bgr = np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
        try:
            out = self._ocr(bgr)  # type: ignore[operator]
        except Exception as exc:
            raise CaptureError(f"RapidOCR failed on page {page + 1}: {exc}") from exc
        if out is None or out.boxes is None or out.txts is None:
            return []
        lines = []
        for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
            pts = np.asarray(box)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append(OcrLine(str(text), float(score), (int(x0), int(y0), int(x1), int(y1)),
                                 page))
        return lines


def available_engines() -> list[str]:
    """Names of the engines that can run here, best first."""
    names = []
    for name in ("rapidocr", "tesseract"):
        try:
            get_engine(name)
            names.append(name)
        except OcrEngineMissingError:
            pass
    return names


def get_engine(name: str = "auto") -> OcrEngine:
    """The engine called `name`; `auto` is RapidOCR if it can run, else Tesseract.

    Raises OcrEngineMissingError (what to install), CaptureError for an unknown name.
    """
    if name == "rapidocr":
        return RapidOcrEngine()
    if name == "tesseract":
        return TesseractEngine()
    if name == "auto":
        problems = []
        for cls in (RapidOcrEngine, TesseractEngine):
            try:
                return cls()
            except OcrEngineMissingError as exc:
                problems.append(str(exc))
        raise OcrEngineMissingError("No text-recognition engine can run. " + " ".join(problems))
    raise CaptureError(f"Unknown OCR engine '{name}': use one of {', '.join(ENGINES)}.")

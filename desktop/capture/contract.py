"""Contract capture: files -> prepared pages -> OCR -> checked fields. No Qt.

    result = capture_contract([Path("p1.jpg"), Path("p2.jpg")], engine="auto",
                              progress=lambda frac, msg: ..., cancel=threading.Event())
    result.to_json()  # the CLI's --json shape

Runs on whatever thread calls it (the UI runs it in the background); `cancel` is a
threading.Event or a callable returning True to stop, raising desktop.errors.Cancelled.
Raises CaptureError subclasses (desktop.capture.errors) for bad input or a missing engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop.capture import image_prep
from desktop.capture.contract_fields import FIELDS, FieldResult, extract_fields
from desktop.capture.errors import EmptyPageError
from desktop.capture.ocr import OcrEngine, OcrLine, get_engine
from desktop.errors import Cancelled

Progress = Callable[[float, str], None]
CancelCheck = threading.Event | Callable[[], bool] | None


@dataclass
class ContractResult:
    fields: dict[str, FieldResult]
    warnings: list[str]
    engine: str
    pages: int
    seconds: float
    sources: list[Path] = field(default_factory=list)
    page_images: list[np.ndarray] = field(default_factory=list, repr=False)  # prepared, gray
    lines: list[OcrLine] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Exactly the CLI shape: fields -> {value, confidence}, warnings, engine, pages,
        seconds."""
        return {
            "fields": {name: {"value": self.fields[name].value,
                              "confidence": self.fields[name].confidence} for name in FIELDS},
            "warnings": list(self.warnings),
            "engine": self.engine,
            "pages": self.pages,
            "seconds": round(self.seconds, 2),
        }

    def values(self) -> dict[str, Any]:
        return {name: self.fields[name].value for name in FIELDS}


def _cancelled(cancel: CancelCheck) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def capture_contract(paths: list[Path], engine: str | OcrEngine = "auto",
                     progress: Progress | None = None,
                     cancel: CancelCheck = None, *,
                     profile: Path | None = None) -> ContractResult:
    """Read the contract made of these files (pages in order); camera photos sealed in
    `profile` are read decrypted in memory.

    Raises CaptureError (bad file, missing engine), EmptyPageError when no page holds
    text, Cancelled when `cancel` fires.
    """
    started = time.monotonic()
    report = progress or (lambda _f, _m: None)

    def check() -> None:
        if _cancelled(cancel):
            raise Cancelled("Contract capture was cancelled.")

    ocr = get_engine(engine) if isinstance(engine, str) else engine
    report(0.0, "Loading pages")
    pages = image_prep.load_pages([Path(p) for p in paths], profile=profile)
    check()
    warnings: list[str] = []
    prepared: list[np.ndarray] = []
    lines: list[OcrLine] = []
    n = len(pages)
    for i, page in enumerate(pages):
        report(i / n, f"Preparing page {i + 1} of {n}")
        gray = image_prep.prepare(page.image)
        page.image = np.empty((0, 0, 3), np.uint8)  # free the colour original early
        prepared.append(gray)
        check()
        if image_prep.is_blank(gray):
            warnings.append(f"Page {i + 1} ({page.source}) is blank and was skipped.")
            continue
        report((i + 0.3) / n, f"Reading page {i + 1} of {n}")
        page_lines = ocr.recognize(gray, i)
        if not page_lines:
            warnings.append(f"No text found on page {i + 1} ({page.source}).")
        lines.extend(page_lines)
        check()
    if not lines:
        raise EmptyPageError(
            "No text was found on " + ("the page" if n == 1 else f"any of the {n} pages")
            + ". Check that the photo shows the contract, in focus and well lit, and try again.")
    report(0.95, "Finding fields")
    fields, field_warnings = extract_fields(lines)
    report(1.0, "Done")
    return ContractResult(fields, warnings + field_warnings, ocr.name, n,
                          time.monotonic() - started, [Path(p) for p in paths], prepared, lines)

"""Contract capture end to end on generated photos, per engine, plus bad input.

Engines must be installed: a missing Tesseract, chi_sim or RapidOCR model FAILS these
tests with the install hint (the test command installs the Debian packages).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.capture import contract_cli, ocr
from desktop.capture.contract import capture_contract
from desktop.capture.errors import (
    EmptyPageError,
    NotAnImageError,
    OcrEngineMissingError,
    PasswordProtectedError,
    TruncatedFileError,
)
from desktop.errors import Cancelled, CaptureError
from tests.capture.contract_samples import FIELDS_ALL, field_matches, make_sample

# A small fixed set: Chinese (both layouts) and English, each photographed differently.
SET = [
    (3, "zh", 0, ("rotate", "noise")),
    (5, "zh", 1, ("perspective", "light", "jpeg", "noise")),
    (8, "zh", 0, ("perspective", "light", "shadow", "blur")),
    (11, "en", 2, ("rotate", "jpeg", "lowres")),
]
THRESHOLD = {"rapidocr": 0.94, "tesseract": 0.8}
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict]]:
    folder = tmp_path_factory.mktemp("contracts")
    out = []
    for seed, lang, layout, kinds in SET:
        s = make_sample(seed, lang, layout, kinds)
        out.append((s.write(folder), s.truth))
    return out


def _engine(name: str) -> ocr.OcrEngine:
    try:
        return ocr.get_engine(name)
    except OcrEngineMissingError as exc:
        pytest.fail(f"OCR engine {name} is not installed: {exc}")


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_field_accuracy_per_engine(engine: str, sample_files: list[tuple[Path, dict]]) -> None:
    eng = _engine(engine)
    right = total = 0
    misses = []
    for path, truth in sample_files:
        result = capture_contract([path], eng)
        for name in FIELDS_ALL:
            total += 1
            if field_matches(name, result.fields[name].value, truth[name]):
                right += 1
            else:
                misses.append(f"{path.name} {name}: "
                              f"{result.fields[name].value!r} != {truth[name]!r}")
    assert right / total >= THRESHOLD[engine], "\n".join(misses)


def test_found_fields_carry_region_and_confidence(sample_files: list[tuple[Path, dict]]) -> None:
    path, truth = sample_files[0]
    result = capture_contract([path], _engine("rapidocr"))
    no = result.fields["contract_no"]
    assert no.value == truth["contract_no"]
    assert no.page == 0 and no.bbox is not None and 0.5 < no.confidence <= 1.0
    x0, y0, x1, y1 = no.bbox
    h, w = result.page_images[0].shape
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert y1 < h / 3  # the number is printed near the top of the page


def test_several_files_form_one_contract(tmp_path: Path,
                                         sample_files: list[tuple[Path, dict]]) -> None:
    blank = tmp_path / "back.png"
    Image.new("RGB", (1240, 1754), "white").save(blank)
    path, truth = sample_files[1]
    progress: list[float] = []
    result = capture_contract([path, blank], _engine("rapidocr"),
                              progress=lambda f, _m: progress.append(f))
    assert result.pages == 2
    assert result.fields["party_b_name"].value == truth["party_b_name"]
    assert any("Page 2" in w and "blank" in w for w in result.warnings)
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)


def test_cancel_stops_the_capture(sample_files: list[tuple[Path, dict]]) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        capture_contract([sample_files[0][0]], _engine("rapidocr"), cancel=stop)
    with pytest.raises(Cancelled):
        capture_contract([sample_files[0][0]], _engine("rapidocr"), cancel=lambda: True)


def test_multipage_tiff_and_pdf(tmp_path: Path) -> None:
    s = make_sample(21, "zh", 0, ("rotate",))
    tiff = tmp_path / "scan.tiff"
    s.clean.save(tiff, save_all=True, append_images=[Image.new("RGB", s.clean.size, "white")])
    pdf = tmp_path / "scan.pdf"
    s.clean.save(pdf, "PDF", resolution=150)
    result = capture_contract([tiff, pdf], _engine("rapidocr"))
    assert result.pages == 3
    assert result.fields["contract_no"].value == s.truth["contract_no"]
    assert result.fields["amount"].value == pytest.approx(s.truth["amount"])
    pdf_text = " ".join(line.text for line in result.lines if line.page == 2)
    assert s.truth["contract_no"] in pdf_text  # the PDF page was rendered and read too


def test_cli_prints_exactly_the_documented_shape(sample_files: list[tuple[Path, dict]],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path, truth = sample_files[0]
    assert contract_cli.main([str(path), "--engine", "rapidocr", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"fields", "warnings", "engine", "pages", "seconds"}
    assert list(data["fields"]) == FIELDS_ALL
    for entry in data["fields"].values():
        assert set(entry) == {"value", "confidence"} and 0.0 <= entry["confidence"] <= 1.0
    assert data["engine"] == "rapidocr" and data["pages"] == 1 and data["seconds"] > 0
    assert isinstance(data["fields"]["amount"]["value"], int | float)
    assert data["fields"]["sign_date"]["value"] == truth["sign_date"]
    assert data["fields"]["currency"]["value"] == "CNY"


def test_cli_as_module_reports_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    proc = subprocess.run([sys.executable, "-m", "desktop.capture.contract_cli", str(bad),
                           "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "notes.txt is not an image" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ bad input
def test_not_an_image(tmp_path: Path) -> None:
    p = tmp_path / "contract.jpg"
    p.write_bytes(b"PK\x03\x04 this is a zip file")
    with pytest.raises(NotAnImageError, match="JPEG, PNG, HEIC"):
        capture_contract([p], "rapidocr")


def test_truncated_file(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (800, 800), "white").save(buf, "PNG")
    p = tmp_path / "cut.png"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(TruncatedFileError, match="incomplete"):
        capture_contract([p], "rapidocr")


def test_empty_page(tmp_path: Path) -> None:
    p = tmp_path / "blank.jpg"
    Image.new("RGB", (1240, 1754), (236, 236, 230)).save(p)
    with pytest.raises(EmptyPageError, match="No text was found"):
        capture_contract([p], "rapidocr")


def test_password_protected_pdf(tmp_path: Path) -> None:
    pdf = tmp_path / "locked.pdf"
    pdf.write_bytes(_encrypted_pdf())
    with pytest.raises(PasswordProtectedError, match="password"):
        capture_contract([pdf], "rapidocr")


def test_huge_photo_is_shrunk_not_fatal(tmp_path: Path) -> None:
    import resource

    s = make_sample(31, "zh", 0, ())
    big = s.clean.resize((8400, 11880))  # 100 megapixels
    p = tmp_path / "huge.jpg"
    big.save(p, quality=80)
    del big
    from desktop.capture.image_prep import MAX_SIDE, load_pages

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pages = load_pages([p])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert max(pages[0].image.shape) <= MAX_SIDE and pages[0].original_size == (8400, 11880)
    assert grown_mb < 200  # decoding 100 MP in full would take 300 MB


def test_missing_tesseract_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrEngineMissingError, match="apt-get install tesseract-ocr"):
        ocr.TesseractEngine()


def test_missing_chinese_pack_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract, "get_languages", lambda config="": ["eng", "osd"])
    with pytest.raises(OcrEngineMissingError, match="tesseract-ocr-chi-sim"):
        ocr.TesseractEngine()


def test_unknown_engine() -> None:
    with pytest.raises(CaptureError, match="auto, rapidocr, tesseract"):
        ocr.get_engine("abbyy")


def test_rapidocr_needs_no_download() -> None:
    assert ocr._rapid_models_present(), "rapidocr wheel lacks its bundled models"


def _encrypted_pdf() -> bytes:
    """A one-page PDF with a user password, RC4 40-bit (standard security handler R2)."""
    import hashlib

    pad = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    user_pw, owner_pw = b"secret", b"owner"
    o_key = hashlib.md5((owner_pw + pad)[:32]).digest()[:5]
    o_val = _rc4(o_key, (user_pw + pad)[:32])
    file_id = b"0123456789abcdef"
    perms = (-44).to_bytes(4, "little", signed=True)
    key = hashlib.md5((user_pw + pad)[:32] + o_val + perms + file_id).digest()[:5]
    u_val = _rc4(key, pad)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + o_val.hex().encode() + b"> /U <"
        + u_val.hex().encode() + b"> /P -44 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<"
            f"{file_id.hex()}> <{file_id.hex()}>] >>\nstartxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def test_numpy_is_used_for_pages() -> None:
    # The prepared page handed to the review screen is a plain 2-D uint8 array.
    s = make_sample(2, "en", 3, ("rotate",))
    from desktop.capture.image_prep import PAGE_WIDTH, prepare

    gray = prepare(np.asarray(s.clean))
    assert gray.dtype == np.uint8 and gray.ndim == 2 and gray.shape[1] == PAGE_WIDTH


def test_exif_orientation_and_heic(tmp_path: Path) -> None:
    from desktop.capture.image_prep import load_pages

    page = Image.new("RGB", (300, 500), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees
    p = tmp_path / "phone.jpg"
    page.save(p, exif=exif.tobytes())
    assert load_pages([p])[0].image.shape[:2] == (300, 500)  # upright: wide, not tall
    # A 300x500 page with a black bar at the top and grey lines below, saved as HEIC once
    # with pillow-heif (pi-heif, which the app uses, only decodes).
    heic = load_pages([FIXTURES / "iphone_page.heic"])[0]
    assert heic.original_size == (300, 500)
    gray = heic.image.mean(axis=2)
    height = gray.shape[0]
    assert gray[: height // 10].mean() < 60  # the bar, at the top
    assert gray[height // 2:].mean() > 150  # a mostly white page below it


def test_auto_prefers_rapidocr_and_falls_back_to_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ocr.get_engine("auto").name == "rapidocr"
    monkeypatch.setattr(ocr, "_rapid_models_present", lambda: False)
    assert ocr.get_engine("auto").name == "tesseract"
    with pytest.raises(OcrEngineMissingError, match="never downloads"):
        ocr.get_engine("rapidocr")


def test_tesseract_leaves_no_copy_of_the_page_in_the_temp_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The page goes to Tesseract through a pipe and its text comes back through one: a
    contract's image or text written to the temp folder would stay there if the app were
    killed mid-read. With no usable temp folder at all, reading still works."""
    import tempfile

    s = make_sample(31, "zh", 0, ())
    gray = np.asarray(s.clean.convert("L"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    lines = _engine("tesseract").recognize(gray, 0)
    text = "".join(line.text for line in lines)
    assert s.truth["contract_no"] in text.replace(" ", "")
    assert not (tmp_path / "no-such-folder").exists()

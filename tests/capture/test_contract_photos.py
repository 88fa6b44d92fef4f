"""Phone photos of contracts (issue 20): a hand's hard shadow over the left third, page
finding that must not crop to the shadow's edge, light evened out under the shadow."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.capture import image_prep, ocr
from desktop.capture.contract import capture_contract
from desktop.capture.errors import OcrEngineMissingError
from tests.capture.contract_samples import CLASSES, make_sample


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_a_quad_starting_at_a_shadows_edge_is_refused_and_the_page_is_not_cropped() -> None:
    for seed in (7, 8, 9):
        s = make_sample(seed, "zh", 0, CLASSES["hand_shadow"])
        rgb = _rgb(s.data)
        h, w = rgb.shape[:2]
        # What a quad at the shadow's edge looks like: the lit two thirds of the sheet.
        cut = np.float32([[0.4 * w, 0.08 * h], [0.9 * w, 0.08 * h],
                          [0.9 * w, 0.92 * h], [0.4 * w, 0.92 * h]])
        ink = image_prep.text_mask(rgb)
        assert image_prep.cuts_text(ink, cut * (ink.shape[1] / w))
        assert not image_prep.sheet_proportions(cut)  # and it is too narrow for a sheet
        assert image_prep.find_page_quad(rgb) is None  # so: no crop
        gray = image_prep.prepare(rgb)
        assert gray.shape[1] == image_prep.PAGE_WIDTH
        assert abs(gray.shape[0] / gray.shape[1] - h / w) < 0.01  # the whole photo, uncut


def test_a_sheet_on_a_desk_is_still_found_and_straightened() -> None:
    for seed in (3, 4):
        s = make_sample(seed, "zh", 1, ("perspective", "light"))
        rgb = _rgb(s.data)
        quad = image_prep.find_page_quad(rgb)
        assert quad is not None and image_prep.sheet_proportions(quad)
        tl, tr, br, bl = quad
        h, w = rgb.shape[:2]
        # The sheet (1240 x 1754 px) lies with a 12 % border of desk around it.
        assert 0.7 * w < float(np.linalg.norm(tr - tl)) < 0.9 * w
        assert 0.7 * h < float(np.linalg.norm(bl - tl)) < 0.9 * h


def test_text_outside_a_quad_is_counted_and_text_inside_is_not() -> None:
    page = np.full((1000, 700, 3), 235, np.uint8)
    for y in range(100, 900, 40):  # lines of "text": short dark marks
        for x in range(60, 640, 24):
            page[y: y + 14, x: x + 3] = 20
            page[y + 5: y + 8, x: x + 14] = 20
    ink = image_prep.text_mask(page)
    whole = np.float32([[0, 0], [700, 0], [700, 1000], [0, 1000]])
    right = np.float32([[250, 0], [700, 0], [700, 1000], [250, 1000]])
    assert np.count_nonzero(ink) > 1000
    assert not image_prep.cuts_text(ink, whole * ink.shape[1] / 700)
    assert image_prep.cuts_text(ink, right * ink.shape[1] / 700)


def test_light_is_evened_out_under_a_hard_shadow() -> None:
    paper = np.full((800, 600), 230, np.uint8)
    paper[:, :200] = 80  # the hand's shadow, hard-edged
    for y in range(100, 700, 50):
        paper[y: y + 12, 40:560:20] = paper[y: y + 12, 40:560:20] // 8  # text, in and out
    flat = image_prep.flatten_light(paper)
    bright = flat[:, 230:].astype(int)
    shaded = flat[:, :170].astype(int)
    # Paper is paper on both sides of the edge, and right at it: no dark band.
    assert abs(int(np.median(shaded)) - int(np.median(bright))) < 15
    assert int(np.median(flat[:, 190:210])) > 200
    # Text under the shadow is as dark against its paper as text in the light.
    assert shaded[100:112, 40].max() < 80 and bright[100:112, 10].max() < 80


@pytest.fixture(scope="module")
def rapid() -> ocr.OcrEngine:
    try:
        return ocr.get_engine("rapidocr")
    except OcrEngineMissingError as exc:
        pytest.fail(f"RapidOCR is not installed: {exc}")


@pytest.mark.parametrize(("seed", "layout"), [(7, 0), (12, 1)])
def test_a_shadowed_page_keeps_its_contract_number_and_dates(
        tmp_path: Path, rapid: ocr.OcrEngine, seed: int, layout: int) -> None:
    s = make_sample(seed, "zh", layout, CLASSES["hand_shadow"])
    result = capture_contract([s.write(tmp_path)], rapid)
    # The number, the credit codes' start and the signing date lie under the shadow.
    assert result.fields["contract_no"].value == s.truth["contract_no"]
    assert result.fields["sign_date"].value == s.truth["sign_date"]
    assert result.fields["party_a_uscc"].value == s.truth["party_a_uscc"]
    assert result.fields["party_a_name"].value == s.truth["party_a_name"]


def test_a_misread_xiamen_on_a_photo_is_corrected(tmp_path: Path, rapid: ocr.OcrEngine) -> None:
    for seed in range(40, 100):
        s = make_sample(seed, "zh", 0, CLASSES["typo"])
        key = next(iter(s.misread))
        if s.misread[key].startswith("厦内"):
            break
    else:
        pytest.fail("no sample printed with 厦内 among the seeds")
    assert s.truth[key].startswith("厦门")
    result = capture_contract([s.write(tmp_path)], rapid)
    name = result.fields[key]
    assert name.value == s.truth[key]
    assert name.raw is not None and name.raw.startswith("厦内") and name.flagged

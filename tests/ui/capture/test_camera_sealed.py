"""A contract photographed in an encrypted profile: the camera's picture is kept sealed
(never a plain JPEG on disk), shown as a page by its plain name, read, and saved with the
contract; the captures folder is empty afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL.ImageQt import ImageQt

from desktop.profile import CAPTURES_DIR
from desktop.security.sealed_file import is_sealed
from desktop.store import Store, cipher
from desktop.ui.capture.mount import install
from tests.capture.contract_samples import make_sample
from tests.ui.helpers import shot


def test_a_camera_photo_is_sealed_read_and_saved_with_the_contract(
        qtbot: Any, make_window: Any, profile: Path) -> None:
    with Store.open(profile) as store:
        deal = store.repo("deal").create({"title": "一期"})
    cipher.encrypt_store(profile)
    window = make_window("zh")
    sample = make_sample(seed=7, lang="zh", layout=0, kinds=())
    w = install(window).open_contract(deal_id=deal["id"])
    qtbot.waitUntil(lambda: w.chosen_deal_id() == deal["id"], timeout=5000)
    dlg = w.open_camera()
    qtbot.waitUntil(dlg.isVisible)
    dlg._captured(0, ImageQt(sample.clean.convert("RGB")))  # what the camera hands over
    [path] = w.files
    assert path.parent == profile / CAPTURES_DIR and is_sealed(path)
    assert w.file_list.item(0).text().endswith(".jpg") and ".sealed" not in \
        w.file_list.item(0).text()
    dlg.close()
    shot(w, "capture_contract_camera_page_zh")
    w.read_button.click()
    qtbot.waitUntil(lambda: w.job is None, timeout=60_000)
    assert w.stack.currentWidget() is w.review, w.error_label.text()
    assert w.review.editors["contract_no"].text() == sample.truth["contract_no"]
    w.review.confirm_btn.click()
    qtbot.waitUntil(lambda: w.outcome is not None, timeout=10000)
    [att] = w.outcome.attachments
    assert att["file_name"] == path.name.removesuffix(".sealed")
    assert list((profile / CAPTURES_DIR).iterdir()) == []

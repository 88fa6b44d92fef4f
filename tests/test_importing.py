"""CSV import and demo data without Qt: the same functions the app runs as background
ops, driven with a plain progress object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.demo_op import add_demo
from desktop.errors import Cancelled, CaptureError
from desktop.importing import import_csv


class Progress:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self.cancel_after = cancel_after

    def report(self, done: int, total: int = 0, text: str = "") -> None:
        if self.cancel_after is not None and len(self.calls) >= self.cancel_after:
            raise Cancelled()
        self.calls.append((done, total))


def test_import_keeps_good_rows_and_says_why_others_were_skipped(store: Any,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("名称,phone,industry\n"
                    "深圳市腾讯计算机系统有限公司,+86 139 1234 5678,互联网\n"
                    ",+86 139 0000 0000,没有名字\n"
                    "小米科技有限责任公司,,硬件\n", encoding="utf-8-sig")
    progress = Progress()
    result = import_csv(store, progress, path)
    assert result.imported == 2 and result.skipped_count == 1
    line, reason = result.skipped[0]
    assert line == 3 and "name" in reason.lower()
    names = sorted(r["name"] for r in store.repo("account").iter_all())
    assert names == ["小米科技有限责任公司", "深圳市腾讯计算机系统有限公司"]
    assert progress.calls[-1] == (3, 3)
    assert store.journal.counts()["pending"] == 2  # every imported row is journaled


def test_import_refuses_a_file_with_no_known_column(store: Any, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(CaptureError, match="no column matches"):
        import_csv(store, Progress(), path)
    assert list(store.repo("account").iter_all()) == []


def test_demo_data_is_added_in_chunks_and_a_cancel_keeps_what_was_committed(
        store: Any) -> None:
    counts = add_demo(store, Progress(), 60, seed=3)
    assert counts["accounts"] == 60 and counts["contacts"] >= 60
    assert len(list(store.repo("account").iter_all())) == 60
    with pytest.raises(Cancelled):
        add_demo(store, Progress(cancel_after=1), 200, seed=4)  # stops after one chunk
    assert len(list(store.repo("account").iter_all())) == 60 + 50

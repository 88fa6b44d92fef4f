"""A week heat map of missed follow-ups: 7 local days (rows) x 24 hours (columns)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

LABEL_W = 80
HEADER_H = 16


class FollowupHeatMap(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid: list[list[int]] = [[0] * 24 for _ in range(7)]
        self.days: list[str] = [""] * 7
        self.setMinimumSize(QSize(LABEL_W + 24 * 12, HEADER_H + 7 * 14))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(HEADER_H + 7 * 20 + 4)

    def set_data(self, grid: list[list[int]], days: list[str]) -> None:
        self.grid, self.days = grid, days
        total = sum(map(sum, grid))
        self.setToolTip(str(total))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = (self.width() - LABEL_W) / 24
        h = (self.height() - HEADER_H - 4) / 7
        top = max(1, max(max(r) for r in self.grid))
        pal = self.palette()
        p.setPen(pal.text().color())
        for hour in range(0, 24, 3):
            p.drawText(QRectF(LABEL_W + hour * w, 0, w * 3, HEADER_H),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                       f"{hour:02d}")
        for d, row in enumerate(self.grid):
            y = HEADER_H + d * h
            p.setPen(pal.text().color())
            p.drawText(QRectF(0, y, LABEL_W - 6, h),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       self.days[d][5:] if d < len(self.days) else "")
            for hour, n in enumerate(row):
                level = n / top
                color = QColor(235, 237, 240) if n == 0 else \
                    QColor(int(255 - 40 * level), int(200 - 150 * level), int(120 - 90 * level))
                p.fillRect(QRectF(LABEL_W + hour * w + 1, y + 1, w - 2, h - 2), color)
        p.end()

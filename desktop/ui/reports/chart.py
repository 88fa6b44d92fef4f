"""Horizontal bars painted with QPainter: one per report row, clickable.

Not QtCharts (kept out of the installer: it brings Qt's OpenGL widgets for a few bars)
nor pyqtgraph (numpy plotting for what is at most a few hundred bars)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR_H, GAP, LABEL_W, VALUE_W = 18, 4, 180, 120
MAX_BARS = 60


class BarChart(QWidget):
    clicked = Signal(int)  # the row of the bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_chart")
        self.labels: list[str] = []
        self.values: list[float] = []
        self.texts: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(40)

    def set_bars(self, labels: list[str], values: list[float], texts: list[str]) -> None:
        self.labels, self.values, self.texts = (labels[:MAX_BARS], values[:MAX_BARS],
                                                texts[:MAX_BARS])
        self.setFixedHeight(max(40, len(self.labels) * (BAR_H + GAP) + GAP))
        self.update()

    def bar_at(self, y: float) -> int:
        row = int((y - GAP) // (BAR_H + GAP))
        return row if 0 <= row < len(self.labels) else -1

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.bar_at(event.position().y())
        if row >= 0:
            self.clicked.emit(row)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = max((abs(v) for v in self.values), default=0.0) or 1.0
        width = max(10, self.width() - LABEL_W - VALUE_W - 12)
        for i, (text, value, shown) in enumerate(zip(self.labels, self.values, self.texts,
                                                     strict=True)):
            y = GAP + i * (BAR_H + GAP)
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(4, y, LABEL_W - 8, BAR_H),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                                  LABEL_W - 8))
            w = width * abs(value) / top
            p.fillRect(QRectF(LABEL_W, y + 2, max(1.0, w), BAR_H - 4),
                       QColor("#1e88e5") if value >= 0 else QColor("#e53935"))
            p.drawText(QRectF(LABEL_W + w + 6, y, VALUE_W, BAR_H),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        p.end()

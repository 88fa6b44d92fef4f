"""Rep × week heat map (activities, golden-72 compliance), painted with QPainter;
clicking a square drills down to its records."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

CELL_W, CELL_H, LABEL_W, HEAD_H = 46, 22, 160, 22


class HeatMap(QWidget):
    clicked = Signal(int)  # the report row of the square

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("report_heatmap")
        self.owners: list[str] = []
        self.weeks: list[str] = []
        self.values: dict[tuple[int, int], float] = {}
        self.rows: dict[tuple[int, int], int] = {}
        self.scale: float | None = None  # the value of full green; None: the largest
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_grid(self, owners: list[str], weeks: list[str], rows: dict[tuple[int, int], int],
                 values: dict[tuple[int, int], float], *, scale: float | None = None) -> None:
        self.owners, self.weeks, self.rows, self.values = owners, weeks, rows, values
        self.scale = scale
        self.setFixedHeight(HEAD_H + max(1, len(owners)) * CELL_H + 4)
        self.setMinimumWidth(LABEL_W + len(weeks) * CELL_W + 4)
        self.update()

    def square_at(self, x: float, y: float) -> tuple[int, int] | None:
        r, c = int((y - HEAD_H) // CELL_H), int((x - LABEL_W) // CELL_W)
        if y < HEAD_H or x < LABEL_W or not (0 <= r < len(self.owners)) or not (
                0 <= c < len(self.weeks)):
            return None
        return r, c

    def mousePressEvent(self, event: QMouseEvent) -> None:
        at = self.square_at(event.position().x(), event.position().y())
        if at is not None and at in self.rows:
            self.clicked.emit(self.rows[at])

    def _colour(self, value: float, top: float) -> QColor:
        share = 0.0 if top <= 0 else max(0.0, min(1.0, value / top))
        # red (missed) through amber to green (met)
        return QColor.fromHsvF(share * 0.33, 0.55, 0.95)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        text = self.palette().text().color()
        top = self.scale or max(self.values.values(), default=0.0)
        p.setPen(text)
        for c, week in enumerate(self.weeks):
            p.drawText(QRectF(LABEL_W + c * CELL_W, 0, CELL_W, HEAD_H),
                       Qt.AlignmentFlag.AlignCenter, week[5:])
        for r, owner in enumerate(self.owners):
            y = HEAD_H + r * CELL_H
            p.setPen(text)
            p.drawText(QRectF(0, y, LABEL_W - 6, CELL_H),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(owner, Qt.TextElideMode.ElideRight,
                                                  LABEL_W - 6))
            for c in range(len(self.weeks)):
                rect = QRectF(LABEL_W + c * CELL_W + 1, y + 1, CELL_W - 2, CELL_H - 2)
                if (r, c) not in self.values:
                    p.fillRect(rect, QColor("#eeeeee"))
                    continue
                v = self.values[(r, c)]
                p.fillRect(rect, self._colour(v, top))
                p.setPen(QColor("#212121"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{v:g}")
        p.end()

"""The app's icons: small line drawings made for FieldCRM (24×24 SVG, drawn here, part
of the project under its own licence), rendered by Qt's SVG image plugin at any scale
(crisp at 200%). `icon(name)` falls back to a Qt standard icon if SVG cannot load."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

COLOUR = "#3d5a80"
_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 24 24" '
         'fill="none" stroke="{c}" stroke-width="2" stroke-linecap="round" '
         'stroke-linejoin="round">')

SHAPES = {
    "home": '<path d="M3 11 12 3l9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "today": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>'
             '<path d="M8.5 15.5l2.5 2.5 4.5-5"/>',
    "account": '<rect x="4" y="3" width="11" height="18"/><path d="M15 9h5v12h-5"/>'
               '<path d="M7 7h2M11 7h1M7 11h2M11 11h1M7 15h2M11 15h1M9 21v-3"/>',
    "contact": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7"/>',
    "deal": '<rect x="3" y="7" width="18" height="13" rx="2"/><path d="M9 7V4h6v3M3 13h18"/>',
    "activity": '<path d="M3 12h4l3-7 4 14 3-7h4"/>',
    "call": '<path d="M5 3h4l2 5-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 '
            '5a2 2 0 0 1 2-2z"/>',
    "visit": '<path d="M12 22s7-6.5 7-12a7 7 0 0 0-14 0c0 5.5 7 12 7 12z"/>'
             '<circle cx="12" cy="10" r="2.5"/>',
    "task": '<rect x="3" y="3" width="18" height="18" rx="3"/><path d="M8 12l3 3 5-6"/>',
    "note": '<path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5M9 12h7M9 16h7"/>',
    "add": '<circle cx="12" cy="12" r="9"/><path d="M12 8v8M8 12h8"/>',
    "quick": '<path d="M13 2 4 14h7l-1 8 9-12h-7z"/>',
    "done": '<path d="M4 12.5l5 5L20 6.5"/>',
    "later": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/><path d="M17 3l3 3"/>',
    "open": '<path d="M14 4h6v6M20 4l-9 9"/><path d="M18 14v6H4V6h6"/>',
    "email": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>',
    "file": '<path d="M6 3h8l5 5v13H6z"/><path d="M14 3v5h5"/>',
    "contract": '<path d="M6 3h9l4 4v14H6z"/><path d="M9 17c1.5-2 2.5-2 3 0s1.5 1 3-1M9 9h6"/>',
    "refresh": '<path d="M20 11a8 8 0 1 0-2.3 5.7"/><path d="M20 4v7h-7"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7"/>'
            '<path d="M17 3.5l1.5 1.5"/>',
    "edit": '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13.5 6.5l4 4"/>',
    "delete": '<path d="M4 7h16M9 7V4h6v3M6 7l1 14h10l1-14"/>',
    "back": '<path d="M15 5l-7 7 7 7"/>',
    "payment": '<rect x="2" y="6" width="20" height="12" rx="2"/><circle cx="12" cy="12" r="2.5"/>'
               '<path d="M6 10v4M18 10v4"/>',
}
FALLBACK = {"home": QStyle.StandardPixmap.SP_DirHomeIcon,
            "refresh": QStyle.StandardPixmap.SP_BrowserReload,
            "back": QStyle.StandardPixmap.SP_ArrowBack,
            "delete": QStyle.StandardPixmap.SP_TrashIcon,
            "done": QStyle.StandardPixmap.SP_DialogApplyButton,
            "open": QStyle.StandardPixmap.SP_DirOpenIcon,
            "file": QStyle.StandardPixmap.SP_FileIcon}


def svg(name: str, colour: str = COLOUR, size: int = 24) -> bytes:
    return (_HEAD.format(c=colour, s=size) + SHAPES[name] + "</svg>").encode()


@cache
def icon(name: str, colour: str = COLOUR) -> QIcon:
    """The named icon (see SHAPES), rendered at 1× and 2×."""
    out = QIcon()
    for size in (16, 24, 32, 48):
        pix = QPixmap()
        if not pix.loadFromData(QByteArray(svg(name, colour, size)), "SVG"):
            break
        out.addPixmap(pix)
    if out.isNull():
        app = QApplication.instance()
        style = app.style() if isinstance(app, QApplication) else None
        if style is not None:
            return style.standardIcon(FALLBACK.get(name, QStyle.StandardPixmap.SP_FileIcon))
    return out

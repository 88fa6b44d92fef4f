"""Everything PySide6: windows, views, models, dialogs, background ops."""

from desktop.ui.qtfix import make_bools_immortal

make_bools_immortal()  # PySide6 6.12 + CPython 3.11: see desktop/ui/qtfix.py

"""Everything PySide6: windows, views, models, dialogs, background ops."""

from desktop.ui.common.qtfix import make_bools_immortal

make_bools_immortal()  # PySide6 6.12 + CPython 3.11: see desktop/ui/common/qtfix.py

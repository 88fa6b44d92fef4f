"""Create/edit dialogs generated from desktop.schema (custom fields included).

Every field is checked as the rep types (desktop.schema.validate_value) and the
message appears under the field; Save stays disabled until every field is valid.
Saving runs on the store worker; when it fails (disk full, store busy, ...) the
dialog stays open with what was typed and says what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop import timezones
from desktop.errors import FieldCRMError, ValidationError
from desktop.finance import Target
from desktop.schema import (
    ENTITIES,
    Check,
    Entity,
    Field,
    FieldType,
    Role,
    is_server_only,
    may_write,
    validate_value,
)
from desktop.store.visibility import unreadable_in
from desktop.ui.common.context import AppContext
from desktop.ui.common.dialog_hooks import DIALOG_HOOKS
from desktop.ui.common.formatting import field_error, local_time, parse_local_time, viewer_zone
from desktop.ui.records.payment_form import PaymentDialog
from desktop.ui.records.payment_list import DealPaymentsSection
from desktop.visibility import MASK, MASKED

if TYPE_CHECKING:
    from desktop.store import Store

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #c62828;"
# collected_amount: what older versions typed; collected is now the sum of the deal's
# received payments, shown in the dialog's Payments section (desktop.finance)
HIDDEN_FIELDS = {"stage_changed_at", "merged_into", "collected_amount"}
SEARCHED_ENTITIES = ("account", "contact")
PICK_DELAY_MS = 150


def editable_fields(ent: Entity) -> list[Field]:
    """The fields a rep edits in the dialog (hashes and system-kept fields left out)."""
    return [f for f in ent.fields
            if f.name not in HIDDEN_FIELDS and f.check is not Check.SHA256 and not f.retired]


def ref_lookup(ref: str, text: str) -> Callable[[Store], list[tuple[str, str]]]:
    """Worker op: (title, id) of records of `ref` matching `text`."""
    def op(store: Store) -> list[tuple[str, str]]:
        if ref in SEARCHED_ENTITIES:
            return [(h.title, h.id) for h in store.search(text, limit=10, entities=(ref,))]
        title = ENTITIES[ref].title_field
        like = "%" + text.replace("%", "").replace("_", "") + "%"
        rows = store.repo(ref).page(limit=10, where=f'"{title}" LIKE ?', params=(like,))
        return [(str(r.get(title) or ""), r["id"]) for r in rows]
    return op


class RefPicker(QComboBox):
    """Pick a related record by typing part of its name."""

    picked = Signal()

    def __init__(self, ctx: AppContext, ref: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.ref = ref
        self.record_id: str | None = None
        self._gen = 0
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.lineEdit()
        assert line is not None
        line.setPlaceholderText(ctx.tr("Type to search…"))
        self._timer = QTimer(self, singleShot=True, interval=PICK_DELAY_MS)
        self._timer.timeout.connect(self._lookup)
        line.textEdited.connect(self._edited)
        self.activated.connect(self._activated)

    def set_record(self, record_id: str | None, title: str) -> None:
        self.record_id = record_id
        self.clear()
        if record_id:
            self.addItem(title, record_id)
            self.setCurrentIndex(0)
        self.setEditText(title)

    def text(self) -> str:
        return self.currentText().strip()

    def _edited(self, _text: str) -> None:
        self.record_id = None
        self._timer.start()
        self.picked.emit()

    def _lookup(self) -> None:
        text = self.text()
        self._gen += 1
        if not text:
            return
        self.ctx.run(ref_lookup(self.ref, text), on_done=partial(self._found, self._gen, text))

    def _found(self, gen: int, typed: str, hits: list[tuple[str, str]]) -> None:
        if gen != self._gen:
            return  # the rep typed on: stale
        self.blockSignals(True)
        self.clear()
        for title, rid in hits:
            self.addItem(title, rid)
        self.setCurrentIndex(-1)
        self.setEditText(typed)
        self.blockSignals(False)
        exact = [rid for title, rid in hits if title == typed]
        if exact:
            self.record_id = exact[0]
            self.picked.emit()
        elif hits and self.hasFocus() and self.isVisible():
            self.showPopup()

    def _activated(self, index: int) -> None:
        self.record_id = self.itemData(index)
        self.picked.emit()


class FieldEditor:
    """One field's input widget and its inline error label."""

    def __init__(self, dialog: RecordDialog, f: Field) -> None:
        self.field = f
        self.ctx = dialog.ctx
        self.touched = False  # show its error message
        self.edited = False  # the rep changed it
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.widget: QWidget
        tr = self.ctx.translator
        self.masked = f.name in dialog.masked
        if self.masked:  # its masked text as it is, read-only (desktop.visibility)
            shown = QLineEdit()
            shown.setReadOnly(True)
            self.widget = shown
        elif f.type is FieldType.CHOICE:
            combo = QComboBox()
            combo.addItem("", None)
            for c in f.choices:
                combo.addItem(tr.choice(c), c)
            combo.currentIndexChanged.connect(dialog.on_edit)
            self.widget = combo
        elif f.type is FieldType.REF and f.ref:
            picker = RefPicker(self.ctx, f.ref)
            picker.picked.connect(dialog.on_edit)
            self.widget = picker
        elif f.type is FieldType.TEXT and f.max_length > 2000:
            box = QPlainTextEdit()
            box.setFixedHeight(90)
            box.textChanged.connect(dialog.on_edit)
            self.widget = box
        else:
            line = QLineEdit()
            line.setPlaceholderText(self.placeholder())
            line.textChanged.connect(dialog.on_edit)
            self.widget = line
        if not may_write(f, Role.REP):
            self.widget.setEnabled(False)
        self.widget.setObjectName(f"field_{f.name}")

    def placeholder(self) -> str:
        f = self.field
        if f.type is FieldType.DATE:
            return "YYYY-MM-DD"
        if f.type is FieldType.DATETIME:
            return "YYYY-MM-DD HH:MM"
        if f.type is FieldType.LIST:
            return self.ctx.tr("Separate several with commas")
        if f.check is Check.USCC:
            return "91110000XXXXXXXXXX"
        if f.check is Check.PHONE:
            return "+86 139 1234 5678"
        return ""

    # ------------------------------------------------------------ values
    def set_value(self, value: Any, ref_title: str = "") -> None:
        w = self.widget
        f = self.field
        if self.masked and isinstance(w, QLineEdit):  # a masked number or date comes empty
            w.setText(", ".join(map(str, value)) if isinstance(value, list)
                      else MASK if value is None else str(value))
        elif isinstance(w, QComboBox) and not isinstance(w, RefPicker):
            i = w.findData(value)
            w.setCurrentIndex(max(i, 0))
        elif isinstance(w, RefPicker):
            w.set_record(value, ref_title)
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(value or "")
        elif isinstance(w, QLineEdit):
            if value is None:
                text = ""
            elif f.type is FieldType.DATETIME:
                text = local_time(value)  # typed back in the viewer's zone
            elif f.type is FieldType.LIST:
                text = ", ".join(value)
            else:
                text = str(value)
            w.setText(text)
            w.setCursorPosition(0)  # show the start of a long value

    def raw(self) -> Any:
        w = self.widget
        if isinstance(w, RefPicker):
            return w.record_id
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        assert isinstance(w, QLineEdit)
        return w.text()

    def value(self, ent: Entity) -> Any:
        """The checked value to store; raises ValidationError."""
        f = self.field
        raw = self.raw()
        w = self.widget
        if isinstance(w, RefPicker) and raw is None and w.text():
            raise ValidationError(self.ctx.tr("Pick a record from the list"), field=f.name)
        if f.type is FieldType.DATETIME and isinstance(raw, str):
            try:
                raw = parse_local_time(raw)
            except ValidationError as exc:
                raise ValidationError(f"{f.label_en}: {exc.message}", field=f.name) from None
        value = validate_value(ent, f.name, raw)
        if value is None and f.form_required:  # a custom field the admin made required
            raise ValidationError(f"{f.label_en} is required", field=f.name)
        return value

    def show_error(self, message: str | None) -> None:
        if message:
            self.error.setText(message)
            self.error.show()
        else:
            self.error.clear()
            self.error.hide()


class RecordDialog(QDialog):
    """New or edit `entity`. `saved(record)` after a successful save;
    `delete_requested(record)` when the rep presses Delete (the window deletes with undo)."""

    saved = Signal(dict)
    delete_requested = Signal(dict)

    def __init__(self, ctx: AppContext, entity: str, record: dict[str, Any] | None = None,
                 parent: QWidget | None = None, *, preset: dict[str, Any] | None = None,
                 ref_titles: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.ent = ENTITIES[entity]
        self.record = record
        self.saving = False
        # For deals: the same stage checks as the board (see DealBoard.stage_checks), so a
        # stage changed here is refused for the same reasons a board move would be.
        self.stage_checks: tuple[Callable[..., list[str]], ...] = ()
        self.setObjectName(f"dialog_{entity}")
        title = "Edit {entity}" if record else "New {entity}"
        self.setWindowTitle(ctx.tr(title, entity=self.ent.label(ctx.lang)))
        self.resize(560, 640)

        form_host = QWidget()
        form = QFormLayout(form_host)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.editors: dict[str, FieldEditor] = {}
        # Fields the user may not read (desktop.visibility): a hidden one is not on the
        # form at all; a masked one shows its masked value, read-only, never saved.
        unreadable = unreadable_in(ctx.profile, entity)
        self.masked = {n for n, how in unreadable.items() if how == MASKED}
        for f in editable_fields(self.ent):
            if f.name in unreadable and f.name not in self.masked:
                continue
            if is_server_only(f) and not (record or {}).get(f.name):
                continue  # ids in other systems: the server's, shown when there are some
            ed = FieldEditor(self, f)
            if f.name in self.masked:
                ed.widget.setToolTip(ctx.tr("Masked: you may not read this field."))
            elif is_server_only(f):  # read-only (FieldEditor disables what reps may not write)
                ed.widget.setToolTip(ctx.tr("Set by the server from other systems."))
            self.editors[f.name] = ed
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(2)
            box.addWidget(ed.widget)
            box.addWidget(ed.error)
            label = f.label(ctx.lang) + (" *" if f.required or f.form_required else "")
            form.addRow(label, cell)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)

        self.message = QLabel()
        self.message.setObjectName("dialog_message")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(ctx.tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(ctx.tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.delete_button: QPushButton | None = None
        if record:
            self.delete_button = self.buttons.addButton(
                ctx.tr("Delete"), QDialogButtonBox.ButtonRole.DestructiveRole)
            self.delete_button.clicked.connect(self._delete)

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        self.payments: DealPaymentsSection | None = None
        if entity == "deal" and record:  # its money: signed, collected, outstanding
            self.payments = DealPaymentsSection(ctx, record["id"])
            self.payments.add_requested.connect(self.add_payment)
            self.payments.payment_requested.connect(self.open_payment)
            layout.addWidget(self.payments, 1)  # shares the height with the fields
            self.resize(660, 900)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self._loading = True
        values = dict(preset or {})
        if record:
            values.update(record)
        titles = dict(ref_titles or {})
        for name, ed in self.editors.items():
            if name in values:
                ed.set_value(values[name], titles.get(name, ""))
        self._loading = False
        self._need_titles = {n: v for n, v in values.items()
                             if n in self.editors and self.editors[n].field.type is FieldType.REF
                             and v and n not in titles}
        if self._need_titles:
            self._load_ref_titles()
        self.validate(touch_all=bool(record))
        for hook in DIALOG_HOOKS:
            hook(self)

    # ------------------------------------------------------------ validation
    def on_edit(self, *_args: object) -> None:
        if self._loading:
            return
        sender = self.sender()
        for ed in self.editors.values():
            if ed.widget is sender or (isinstance(sender, QWidget)
                                       and ed.widget.isAncestorOf(sender)):
                ed.touched = ed.edited = True
        self.message.hide()
        self.validate()

    def validate(self, touch_all: bool = False) -> dict[str, Any] | None:
        """Check every field; show messages on touched ones; enable Save when all are
        valid. Returns the checked values, or None."""
        values: dict[str, Any] = {}
        ok = True
        for name, ed in self.editors.items():
            if name in self.masked:
                continue  # shown masked, never written
            if touch_all:
                ed.touched = True
            try:
                values[name] = ed.value(self.ent)
                ed.show_error(None)
            except ValidationError as exc:
                ok = False
                ed.show_error(field_error(ed.field, exc, self.ctx.translator)
                              if ed.touched else None)
        self.save_button.setEnabled(ok and not self.saving)
        return values if ok else None

    def errors(self) -> dict[str, str]:
        """Field name -> the message shown under it (for tests and screen readers)."""
        return {n: ed.error.text() for n, ed in self.editors.items() if not ed.error.isHidden()}

    # ------------------------------------------------------------ saving
    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.record is None:
            return {k: v for k, v in values.items() if v is not None}
        return {k: v for k, v in values.items()
                if self.record.get(k) != v and may_write(self.ent.field(k), Role.REP)}

    def save(self) -> None:
        values = self.validate(touch_all=True)
        if values is None or self.saving:
            return
        changes = self.changes(values)
        name = self.ent.name
        if self.record is None:
            if self.ent.has_field("time_zone") and not changes.get("time_zone"):
                # planned in the rep's zone: others see it beside theirs
                changes["time_zone"] = timezones.zone_name(viewer_zone()) or None

            def op(store: Store) -> dict[str, Any]:
                return store.repo(name).create(changes)
        else:
            rid = self.record["id"]

            def op(store: Store) -> dict[str, Any]:
                return store.repo(name).update(rid, changes)
        run: Callable[[Store], dict[str, Any]] = op
        if name == "deal" and changes.get("stage"):
            run = self._guard_stage(op, changes)
        self.saving = True
        self.save_button.setEnabled(False)
        self.message.setText(self.ctx.tr("Saving…"))
        self.message.setStyleSheet("")
        self.message.show()
        self.ctx.run(run, on_done=self._saved, on_error=self._failed, initiator=self)

    def _guard_stage(self, op: Callable[[Store], dict[str, Any]],
                     changes: dict[str, Any]) -> Callable[[Store], dict[str, Any]]:
        """Run the stage checks before the save; a refusal marks the stage field and keeps
        everything typed. (The store restarts the stage clock: Entity.change_times.)"""
        stage = changes["stage"]
        checks, lang = self.stage_checks, self.ctx.lang
        # A new deal is checked as if it had an id: it has no contract or history yet.
        before = dict(self.record) if self.record else {"id": "(new)", "stage": None}
        deal = {**before, **{k: v for k, v in changes.items() if k != "stage"}}

        def guarded(store: Store) -> dict[str, Any]:
            reasons = [r for check in checks for r in check(store, deal, stage, lang)]
            if reasons:
                raise ValidationError("\n".join(reasons), field="stage")
            return op(store)
        return guarded

    def _saved(self, rec: dict[str, Any]) -> None:
        self.saving = False
        self.record = rec
        self.message.hide()
        self.saved.emit(rec)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        self.message.setStyleSheet(ERROR_STYLE)
        if isinstance(exc, ValidationError) and exc.field in self.editors:
            ed = self.editors[exc.field]
            ed.show_error(field_error(ed.field, exc, self.ctx.translator))
            self.message.setText(self.ctx.tr("Please correct the marked field."))
        else:
            if not isinstance(exc, FieldCRMError):
                log.error("saving a record failed", exc_info=exc)
            self.message.setText(self.ctx.error_text(exc))
        self.message.show()
        self.save_button.setEnabled(True)

    def _delete(self) -> None:
        if self.record:
            self.delete_requested.emit(self.record)
            self.reject()

    def _load_ref_titles(self) -> None:
        wanted = {n: (self.editors[n].field.ref or "", v) for n, v in self._need_titles.items()}

        def op(store: Store) -> dict[str, str]:
            out = {}
            for n, (ref, rid) in wanted.items():
                try:
                    rec = store.repo(ref).get(rid)
                except Exception:  # a deleted or unknown record: leave the picker empty
                    continue
                out[n] = str(rec.get(ENTITIES[ref].title_field) or "")
            return out

        self.ctx.run(op, on_done=self._got_titles)

    def _got_titles(self, titles: dict[str, str]) -> None:
        for n, title in titles.items():
            ed = self.editors.get(n)
            if ed is not None and isinstance(ed.widget, RefPicker) and not ed.edited:
                ed.widget.set_record(self._need_titles[n], title)
        self.validate()

    def add_payment(self) -> PaymentDialog:
        """The payment form for this deal (finance writes; others read)."""
        rec = self.record or {}
        target = Target("deal", rec["id"], str(rec.get("title") or ""), rec.get("currency"))
        return self._open_payment_dialog(PaymentDialog(
            self.ctx, None, self, preset={"target": target, "currency": rec.get("currency")}))

    def open_payment(self, payment: dict[str, Any]) -> PaymentDialog:
        return self._open_payment_dialog(PaymentDialog(self.ctx, payment, self))

    def _open_payment_dialog(self, dlg: PaymentDialog) -> PaymentDialog:
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.payment_dialog = dlg
        dlg.open()
        return dlg

    def keyPressEvent(self, event: Any) -> None:
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not self.save_button.isEnabled()):
            return  # Enter on an invalid form does nothing rather than closing
        super().keyPressEvent(event)

"""Settings ▸ Speech models: which Vosk model voice notes use, choose a folder that holds
one, or download one (Chinese, English, ...) from the model list with progress and
cancel. The work is desktop.capture.model_download's; here it runs on a `ctx.run_task`
thread (network and disk, never the store worker) and reports back on the UI thread.

The same page is a tab of Settings (registered by desktop.ui.capture.mount) and a
dialog of its own, opened from the voice note window (`SpeechModelsDialog`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import Cancelled, FieldCRMError
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from desktop.capture.model_catalog import CatalogEntry
    from desktop.capture.model_download import InstallResult
    from desktop.capture.voice_models import VoiceModel
    from desktop.ui.common.context import AppContext
    from desktop.ui.common.jobs import BackgroundTask

ERROR_STYLE = "color: #c0392b; font-weight: bold;"
DONE_STYLE = "color: #2e7d32; font-weight: bold;"
NONE_STYLE = "background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px;"
IN_USE_STYLE = "background: #eef6ee; border: 1px solid #9ccc9c; border-radius: 6px; padding: 8px;"
# share of the bar for each phase (the download is most of the wait)
PHASE_SPAN = {"download": (0.0, 0.8), "verify": (0.8, 0.85), "unpack": (0.85, 1.0)}
LANGUAGES = {"zh": "Chinese", "en": "English", "ko": "Korean", "ja": "Japanese",
             "de": "German", "fr": "French", "ru": "Russian", "es": "Spanish"}

register_catalog({
    "Speech models": "语音模型",
    "Speech models…": "语音模型…",
    "Voice notes are turned into text on this computer by a Vosk speech model. Choose a "
    "folder that holds one, or download one below.":
        "语音笔记在本机由 Vosk 语音模型转成文字。可以选择存有模型的文件夹，或在下方下载一个。",
    "In use: {name}{language}\n{folder}": "正在使用：{name}{language}\n{folder}",
    "No speech model is in use: recordings cannot be turned into text yet (typed notes "
    "still work). Download one below, or choose a folder that holds one.":
        "尚未使用任何语音模型：录音暂时无法转成文字（仍可输入笔记）。请在下方下载一个，"
        "或选择存有模型的文件夹。",
    "Looking for speech models…": "正在查找语音模型…",
    "Installed models": "已安装的模型",
    "Use this model": "使用此模型",
    "Choose a folder…": "选择文件夹…",
    "Open the models folder": "打开模型文件夹",
    "(none installed)": "（未安装）",
    "Choose the folder of a Vosk model": "选择 Vosk 模型所在的文件夹",
    "Download a model": "下载模型",
    "Model list": "模型列表",
    "the list shipped with FieldCRM (or a file or http address)":
        "FieldCRM 自带的列表（也可填写文件或 http 地址）",
    "Reload": "重新读取",
    "Model": "模型",
    "Language": "语言",
    "Size": "大小",
    "State": "状态",
    "installed": "已安装",
    "sha256 checked": "会校验 sha256",
    "Download": "下载",
    "Cancel": "取消",
    "Reading the model list…": "正在读取模型列表…",
    "Choose a model in the list first.": "请先在列表中选择一个模型。",
    "Downloading {name}: {done} of {total}": "正在下载 {name}：{done} / {total}",
    "Downloading {name}: {done}": "正在下载 {name}：{done}",
    "Checking the download (sha256)…": "正在校验下载的文件（sha256）…",
    "Unpacking {name}…": "正在解压 {name}…",
    "Stopping…": "正在停止…",
    "Stopped. What was downloaded is kept: “Download” resumes from there.":
        "已停止。已下载的部分会保留，再次点击“下载”会从中断处继续。",
    "Installed {name}; voice notes now use it.": "已安装 {name}，语音笔记现在使用它。",
    "Voice notes now use {name}.": "语音笔记现在使用 {name}。",
    "Chinese": "中文", "English": "英语", "Korean": "韩语", "Japanese": "日语",
    "German": "德语", "French": "法语", "Russian": "俄语", "Spanish": "西班牙语",
    "Close": "关闭",
})


def _mb(n: int | None) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n else "?"


class SpeechModelsPage(QWidget):
    """Choose or download the speech model voice notes use."""

    model_changed = Signal(str)  # the folder now in use

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speech_models")
        self.ctx = ctx
        self.installed: list[VoiceModel] = []
        self.in_use: VoiceModel | None = None
        self.entries: list[CatalogEntry] = []
        self.job: BackgroundTask | None = None
        self.last_result: InstallResult | None = None
        self._busy_name = ""
        self._asked = {"found": 0, "catalog": 0}  # only the newest answer of each is shown
        tr = ctx.tr

        intro = QLabel(tr("Voice notes are turned into text on this computer by a Vosk "
                          "speech model. Choose a folder that holds one, or download one "
                          "below."))
        intro.setWordWrap(True)
        self.in_use_label = QLabel(tr("Looking for speech models…"))
        self.in_use_label.setObjectName("in_use")
        self.in_use_label.setWordWrap(True)
        self.in_use_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # -- installed models, or a folder anywhere
        self.installed_combo = QComboBox()
        self.installed_combo.setObjectName("installed_models")
        self.use_button = QPushButton(tr("Use this model"))
        self.use_button.clicked.connect(lambda _c=False: self.use_selected())
        self.folder_button = QPushButton(tr("Choose a folder…"))
        self.folder_button.clicked.connect(lambda _c=False: self.choose_folder())
        self.open_button = QPushButton(tr("Open the models folder"))
        self.open_button.clicked.connect(lambda _c=False: self.open_models_folder())
        installed_box = QGroupBox(tr("Installed models"))
        iv = QVBoxLayout(installed_box)
        row = QHBoxLayout()
        row.addWidget(self.installed_combo, 1)
        row.addWidget(self.use_button)
        iv.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.folder_button)
        row2.addWidget(self.open_button)
        row2.addStretch(1)
        iv.addLayout(row2)

        # -- download
        self.catalog_edit = QLineEdit(ctx.settings.model_catalog)
        self.catalog_edit.setObjectName("catalog_address")
        self.catalog_edit.setPlaceholderText(
            tr("the list shipped with FieldCRM (or a file or http address)"))
        self.catalog_edit.returnPressed.connect(self.load_catalog)
        self.reload_button = QPushButton(tr("Reload"))
        self.reload_button.clicked.connect(lambda _c=False: self.load_catalog())
        self.tree = QTreeWidget()
        self.tree.setObjectName("catalog")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels([tr("Model"), tr("Language"), tr("Size"), tr("State")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.itemDoubleClicked.connect(lambda *_a: self.download())
        self.download_button = QPushButton(tr("Download"))
        self.download_button.setObjectName("download")
        self.download_button.clicked.connect(lambda _c=False: self.download())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(lambda _c=False: self.cancel())
        self.progress_label = QLabel()
        self.progress_label.setObjectName("progress_text")
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        download_box = QGroupBox(tr("Download a model"))
        dv = QVBoxLayout(download_box)
        cat_row = QHBoxLayout()
        cat_row.addWidget(QLabel(tr("Model list") + ":"))
        cat_row.addWidget(self.catalog_edit, 1)
        cat_row.addWidget(self.reload_button)
        dv.addLayout(cat_row)
        dv.addWidget(self.tree, 1)
        prow = QHBoxLayout()
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        prow.addWidget(self.download_button)
        dv.addLayout(prow)
        dv.addWidget(self.progress_label)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.in_use_label)
        layout.addWidget(installed_box)
        layout.addWidget(download_box, 1)
        layout.addWidget(self.message)
        self._set_busy(False)
        if isinstance(parent, QDialog):  # Settings or our dialog: closing it stops a download
            parent.finished.connect(lambda _result: self.stop())
        self.refresh()
        self.load_catalog()

    # ------------------------------------------------------------ what is installed
    @property
    def models_folder(self) -> Path:
        from desktop.capture.model_catalog import models_dir

        return models_dir(self.ctx.profile)

    def refresh(self) -> None:
        """Find the installed models and the one in use (in the background)."""
        profile, lang = self.ctx.profile, self.ctx.lang
        self._asked["found"] += 1
        asked = self._asked["found"]

        def work(_task: BackgroundTask) -> tuple[list[VoiceModel], VoiceModel | None]:
            from desktop.capture.model_catalog import model_in_use
            from desktop.capture.voice_models import discover_models

            models, in_use = discover_models(profile), model_in_use(profile, lang)
            if in_use is not None and all(m.path != in_use.path for m in models):
                models.append(in_use)  # a folder chosen elsewhere on the disk
            return models, in_use

        # (partials of methods: ctx.run_task drops results for a page already closed)
        self.ctx.run_task(work, on_done=partial(self._found, asked=asked),
                          on_error=self._failed, name="speech-models")

    def _found(self, out: tuple[list[VoiceModel], VoiceModel | None], asked: int) -> None:
        if asked != self._asked["found"]:
            return  # a later look is under way
        self.installed, self.in_use = out
        tr = self.ctx.tr
        combo = self.installed_combo
        combo.clear()
        for m in self.installed:
            combo.addItem(f"{m.name}{self._lang(m.language)}", str(m.path))
        if not self.installed:
            combo.addItem(tr("(none installed)"), None)
        combo.setEnabled(bool(self.installed))
        self.use_button.setEnabled(bool(self.installed))
        if self.in_use is not None:
            index = combo.findData(str(self.in_use.path))
            if index >= 0:
                combo.setCurrentIndex(index)
            self.in_use_label.setText(tr("In use: {name}{language}\n{folder}",
                                         name=self.in_use.name,
                                         language=self._lang(self.in_use.language),
                                         folder=self.in_use.path))
            self.in_use_label.setStyleSheet(IN_USE_STYLE)
        else:
            self.in_use_label.setText(tr(
                "No speech model is in use: recordings cannot be turned into text yet "
                "(typed notes still work). Download one below, or choose a folder that "
                "holds one."))
            self.in_use_label.setStyleSheet(NONE_STYLE)
        self._mark_installed()

    def _lang(self, code: str | None) -> str:
        if not code:
            return ""
        return f" ({self.ctx.tr(LANGUAGES[code]) if code in LANGUAGES else code})"

    def use_selected(self) -> None:
        path = self.installed_combo.currentData()
        if path:
            self.use_folder(Path(path))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.ctx.tr("Choose the folder of a Vosk model"), str(Path.home()))
        if folder:
            self.use_folder(Path(folder))

    def use_folder(self, folder: Path) -> None:
        """Use the model in `folder` once it is checked (a broken one is refused)."""
        def work(_task: BackgroundTask) -> Path:
            from desktop.capture.voice_models import check_model

            path = Path(folder).expanduser().resolve()
            check_model(path)
            return path

        self.ctx.run_task(work, on_done=self._use, on_error=self._failed, name="speech-use")

    def _use(self, path: Path, message: str | None = None) -> None:
        self.ctx.settings.voice_model = str(path)
        self.ctx.settings.save(self.ctx.profile)
        self._say(message or self.ctx.tr("Voice notes now use {name}.", name=path.name),
                  DONE_STYLE)
        self.model_changed.emit(str(path))
        self.refresh()

    def open_models_folder(self) -> None:
        self.models_folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.models_folder)))

    # ------------------------------------------------------------ the model list
    def load_catalog(self) -> None:
        address = self.catalog_edit.text().strip()
        if address != self.ctx.settings.model_catalog:
            self.ctx.settings.model_catalog = address
            self.ctx.settings.save(self.ctx.profile)
        profile = self.ctx.profile
        self.tree.clear()
        self.entries = []
        self.progress_label.setText(self.ctx.tr("Reading the model list…"))
        self._asked["catalog"] += 1
        asked = self._asked["catalog"]

        def work(_task: BackgroundTask) -> list[CatalogEntry]:
            from desktop.capture.model_catalog import load_catalog

            return load_catalog(address or None, profile=profile)

        self.ctx.run_task(work, on_done=partial(self._catalog_loaded, asked=asked),
                          on_error=partial(self._catalog_failed, asked=asked),
                          name="speech-catalog")

    def _catalog_loaded(self, entries: list[CatalogEntry], asked: int) -> None:
        if asked != self._asked["catalog"]:
            return  # the list of an address since replaced
        self.entries = list(entries)
        self.progress_label.clear()
        self.tree.clear()
        for e in self.entries:
            item = QTreeWidgetItem([e.name, self._lang(e.language).strip(" ()"),
                                    _mb(e.size), ""])
            item.setData(0, Qt.ItemDataRole.UserRole, e.name)
            item.setToolTip(0, f"{e.title}\n{e.url}".strip())
            self.tree.addTopLevelItem(item)
        preferred = next((i for i, e in enumerate(self.entries)
                          if e.language == self.ctx.lang), 0)
        first = self.tree.topLevelItem(preferred)
        if first is not None:
            self.tree.setCurrentItem(first)
        for col in (1, 2, 3):
            self.tree.resizeColumnToContents(col)
        self._mark_installed()

    def _catalog_failed(self, exc: BaseException, asked: int) -> None:
        if asked != self._asked["catalog"]:
            return
        self.progress_label.clear()
        self._failed(exc)

    def _mark_installed(self) -> None:
        names = {m.path.name for m in self.installed if m.source == "profile"}
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is None:
                continue
            entry = self.entries[i] if i < len(self.entries) else None
            state = ""
            if item.text(0) in names:
                state = self.ctx.tr("installed")
            elif entry is not None and entry.sha256:
                state = self.ctx.tr("sha256 checked")
            item.setText(3, state)

    def selected_entry(self) -> CatalogEntry | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        name = item.data(0, Qt.ItemDataRole.UserRole)
        return next((e for e in self.entries if e.name == name), None)

    # ------------------------------------------------------------ download
    def download(self, entry: CatalogEntry | None = None) -> BackgroundTask | None:
        """Download, check and install `entry` (default: the one selected), then use it."""
        if self.job is not None:
            return None
        entry = entry or self.selected_entry()
        if entry is None:
            self._say(self.ctx.tr("Choose a model in the list first."), ERROR_STYLE)
            return None
        models = self.models_folder
        self._say("")

        def work(task: BackgroundTask) -> InstallResult:
            from desktop.capture.model_download import install_model

            last = [("", -1)]

            def progress(phase: str, done: int, total: int | None) -> None:
                lo, hi = PHASE_SPAN.get(phase, (0.0, 1.0))
                fraction = lo + (hi - lo) * (done / total if total else 0.0)
                key = (phase, int(fraction * 1000))
                if key != last[0]:  # at most one report per 0.1 % (signals are queued)
                    last[0] = key
                    task.report(fraction, f"{phase}\t{done}\t{total or ''}")

            return install_model(entry, models, on_progress=progress,
                                 cancelled=task.cancelled, replace=False)

        self._busy_name = entry.name
        self.job = self.ctx.run_task(work, on_done=self._installed, on_error=self._job_failed,
                                     on_progress=self._progressed, name="speech-download")
        self._set_busy(True)
        return self.job

    def _progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        phase, done, total = [*text.split("\t"), "", "", ""][:3]
        tr, name = self.ctx.tr, self._busy_name
        if phase == "download":
            d = int(done or 0)
            self.progress_label.setText(
                tr("Downloading {name}: {done} of {total}", name=name, done=_mb(d),
                   total=_mb(int(total))) if total else
                tr("Downloading {name}: {done}", name=name, done=_mb(d)))
        elif phase == "verify":
            self.progress_label.setText(tr("Checking the download (sha256)…"))
        elif phase == "unpack":
            self.progress_label.setText(tr("Unpacking {name}…", name=name))

    def _installed(self, result: InstallResult) -> None:
        self.job = None
        self.last_result = result
        self._set_busy(False)
        self.progress.setValue(1000)
        self.progress_label.clear()
        self._use(result.path, self.ctx.tr("Installed {name}; voice notes now use it.",
                                           name=result.name))

    def _job_failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_busy(False)
        self.progress_label.clear()
        if isinstance(exc, Cancelled):
            self._say(self.ctx.tr("Stopped. What was downloaded is kept: “Download” resumes "
                                  "from there."), "")
            return
        self._failed(exc)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.ctx.tr("Stopping…"))

    def _set_busy(self, on: bool) -> None:
        self.cancel_button.setVisible(on)
        self.cancel_button.setEnabled(on)
        self.progress.setValue(0)
        for w in (self.download_button, self.reload_button, self.use_button,
                  self.folder_button, self.catalog_edit):
            w.setEnabled(not on)

    # ------------------------------------------------------------ messages
    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            return
        if not isinstance(exc, FieldCRMError):
            self.ctx.show_error(exc)  # logs what is not ours
        self._say(self.ctx.error_text(exc), ERROR_STYLE)

    def _say(self, text: str, style: str = "") -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    def stop(self) -> None:
        """Cancel a download that runs (the page is closing); what was downloaded is kept
        and the next download resumes from there."""
        if self.job is not None:
            self.job.cancel()


class SpeechModelsDialog(QDialog):
    """The page as a dialog of its own (from the voice note window)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speech_models_dialog")
        self.setWindowTitle(ctx.tr("Speech models"))
        self.page = SpeechModelsPage(ctx, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(ctx.tr("Close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page, 1)
        layout.addWidget(buttons)
        self.resize(720, 560)

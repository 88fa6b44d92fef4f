"""A photo of a contract from the laptop camera (QtMultimedia): live preview, "Take
photo", and the picture handed over in memory and kept in the profile's captures folder
(sealed in an encrypted profile: desktop.capture.camera_photos). Without a camera, or
without permission to use it, the dialog says so and points to files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.capture.camera_photos import save_camera_photo
from desktop.errors import FieldCRMError
from desktop.ui.common.context import AppContext
from desktop.ui.common.i18n import register_catalog

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QCamera

register_catalog({
    "Take photo": "拍照",
    "Photo of the contract": "拍摄合同",
    "No camera was found. Connect a camera, or use “Choose files…” for photos and scans.":
        "没有找到摄像头。请连接摄像头，或用“选择文件…”添加照片和扫描件。",
    "The camera cannot be used: {reason}. Check that FieldCRM may use the camera "
    "(system settings, privacy), or use “Choose files…”.":
        "无法使用摄像头：{reason}。请在系统设置的隐私选项中允许 FieldCRM 使用摄像头，"
        "或用“选择文件…”。",
    "The photo could not be saved: {reason}.": "照片无法保存：{reason}。",
    "Hold the page flat and fill the picture with it.": "请把合同页放平，并让它占满画面。",
})


class CameraDialog(QDialog):
    """Emits `photo_taken(path)` for every photo taken; stays open for the next page."""

    photo_taken = Signal(Path)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        tr = ctx.tr
        self.setWindowTitle(tr("Photo of the contract"))
        self.setMinimumWidth(520)
        self.message = QLabel()
        self.message.setObjectName("camera_message")
        self.message.setWordWrap(True)
        self.take_button = QPushButton(tr("Take photo"))
        self.take_button.setEnabled(False)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.take_button)
        buttons.addWidget(close)
        self.layout_ = QVBoxLayout(self)
        self.camera: QCamera | None = None
        self._start()
        self.layout_.addLayout(buttons)

    def _start(self) -> None:
        from PySide6.QtMultimedia import QMediaDevices

        devices = QMediaDevices.videoInputs()
        if not devices:
            self.message.setText(self.ctx.tr(
                "No camera was found. Connect a camera, or use “Choose files…” for photos and "
                "scans."))
            return
        from PySide6.QtMultimedia import QCamera, QImageCapture, QMediaCaptureSession
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.preview = QVideoWidget()
        self.preview.setMinimumSize(640, 420)
        self.layout_.addWidget(self.preview, 1)
        camera = QCamera(QMediaDevices.defaultVideoInput() or devices[0])
        self.camera = camera
        self.capture = QImageCapture()
        self.session = QMediaCaptureSession()
        self.session.setCamera(camera)
        self.session.setImageCapture(self.capture)
        self.session.setVideoOutput(self.preview)
        camera.errorOccurred.connect(self._camera_error)
        self.capture.errorOccurred.connect(self._capture_error)
        self.capture.readyForCaptureChanged.connect(self.take_button.setEnabled)
        self.capture.imageCaptured.connect(self._captured)
        self.take_button.clicked.connect(self.take)
        self.message.setText(self.ctx.tr("Hold the page flat and fill the picture with it."))
        camera.start()

    def take(self) -> None:
        self.capture.capture()  # in memory: no plain file of the page is ever written

    def _captured(self, _id: int, image: QImage) -> None:
        try:
            path = keep_photo(self.ctx.profile, image)
        except FieldCRMError as exc:
            self.message.setText(self.ctx.tr("The photo could not be saved: {reason}.",
                                             reason=self.ctx.error_text(exc)))
            return
        self.photo_taken.emit(path)

    def _camera_error(self, _error: object, reason: str) -> None:
        self.take_button.setEnabled(False)
        self.message.setText(self.ctx.tr(
            "The camera cannot be used: {reason}. Check that FieldCRM may use the camera "
            "(system settings, privacy), or use “Choose files…”.", reason=reason))

    def _capture_error(self, _id: int, _error: object, reason: str) -> None:
        self.message.setText(self.ctx.tr("The photo could not be saved: {reason}.", reason=reason))

    def done(self, result: int) -> None:
        if self.camera is not None:
            self.camera.stop()
        super().done(result)

    def closeEvent(self, event: object) -> None:
        if self.camera is not None:
            self.camera.stop()
        super().closeEvent(event)  # type: ignore[arg-type]


def keep_photo(profile: Path, image: QImage) -> Path:
    """Encode the camera's picture as JPEG in memory and keep it in the profile."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "JPG", 92):  # type: ignore[call-overload]  # str works; stubs say bytes
        from desktop.errors import CaptureError

        raise CaptureError("The camera's picture could not be encoded.")
    buffer.close()
    return save_camera_photo(profile, bytes(data.data()))

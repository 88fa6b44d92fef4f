"""Capture errors: small subclasses of the app's CaptureError/Cancelled.

Each message says what happened and what to do; library errors are translated to
these at the boundary.
"""

from __future__ import annotations

from desktop.errors import CaptureError


class NotAnImageError(CaptureError):
    """This file is not an image or PDF that FieldCRM can read. Use a JPEG, PNG, HEIC,
    TIFF photo or a PDF scan."""


class TruncatedFileError(CaptureError):
    """This file is incomplete (it was cut off while copying or downloading). Copy the
    original again and retry."""


class EmptyPageError(CaptureError):
    """The page is blank: no text was found. Check the photo shows the contract page."""


class PasswordProtectedError(CaptureError):
    """This PDF is password-protected. Save an unprotected copy and try again."""


class OcrEngineMissingError(CaptureError):
    """No text-recognition engine is available. Install Tesseract with the Chinese
    language pack (Debian/Ubuntu: sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim
    tesseract-ocr-eng) or the rapidocr Python package."""


# ---------------------------------------------------------------- voice notes
class AudioDecodeError(CaptureError):
    """This audio file could not be read: it is damaged or not a supported format. Use
    WAV, MP3, M4A/AAC or OGG. The original file is kept as it was."""


class SilentRecordingError(CaptureError):
    """The recording is silent: no sound reached the microphone. Check that the right
    microphone is selected and not muted, then record again. The recording is kept."""


class NoSpeechError(CaptureError):
    """No speech was recognised in the recording (only noise). Record again closer to
    the microphone, or type the note. The recording is kept."""


class VoiceModelMissingError(CaptureError):
    """No speech model is installed. Download one in Settings, Speech models (for example
    vosk-model-small-cn-0.22 for Chinese or vosk-model-small-en-us-0.15 for English), or
    unzip a Vosk model from alphacephei.com/vosk/models into the "models" folder of your
    FieldCRM profile or a folder named in FIELDCRM_VOSK_MODELS, and try again."""


class VoiceModelBrokenError(CaptureError):
    """The speech model folder is incomplete or damaged. Replace it with a fresh,
    fully unzipped copy of the Vosk model and try again."""


# ---------------------------------------------------------------- speech model downloads
class ModelCatalogError(CaptureError):
    """The list of speech models could not be read. Check its address (Settings, Speech
    models, or FIELDCRM_MODEL_CATALOG) and try again."""


class ModelNotInCatalogError(CaptureError):
    """That speech model is not in the list of known models. See the list (fieldcrm
    capture models list) or give the model's address with --url."""


class ModelDownloadError(CaptureError):
    """The speech model could not be downloaded. Check the connection and the address,
    then try again: the download resumes where it stopped."""


class ModelChecksumError(CaptureError):
    """The downloaded file is not the expected speech model (its sha256 digest differs).
    Nothing was installed and the download was deleted. Check the address and the digest
    in the model list, then download again."""


class NotEnoughDiskSpaceError(CaptureError):
    """There is not enough free disk space for the speech model. Free some space, or
    choose a models folder on another disk, and try again."""


class ModelArchiveError(CaptureError):
    """The downloaded file is not a usable speech model archive (a damaged zip, unsafe
    paths, or no Vosk model inside). Nothing was installed."""


class ModelAlreadyInstalledError(CaptureError):
    """This speech model is already installed. Choose it, or remove its folder first."""

"""PyInstaller runtime hook: point FieldCRM at the helpers an installer put in the bundle.

Runs before any app code in the frozen app. Inside the bundle (sys._MEIPASS):
  tesseract/        Tesseract program, its libraries and tessdata (Windows, macOS builds)
  vosk-models/      Vosk speech models, one folder each (only in builds made with one)
The bundled Tesseract comes first on PATH (the app then reads with the program and data
it was tested with); an explicit TESSDATA_PREFIX or FIELDCRM_VOSK_MODELS is kept, and
the bundled models are searched after the folders it names.
"""

import os
import sys


def _fieldcrm_bundle_paths() -> None:
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return
    tess = os.path.join(base, "tesseract")
    exe = "tesseract.exe" if sys.platform == "win32" else "tesseract"
    if os.path.isfile(os.path.join(tess, exe)):
        os.environ["PATH"] = tess + os.pathsep + os.environ.get("PATH", "")
        if "TESSDATA_PREFIX" not in os.environ and os.path.isdir(os.path.join(tess, "tessdata")):
            os.environ["TESSDATA_PREFIX"] = os.path.join(tess, "tessdata")
    models = os.path.join(base, "vosk-models")
    if os.path.isdir(models):
        current = os.environ.get("FIELDCRM_VOSK_MODELS")
        os.environ["FIELDCRM_VOSK_MODELS"] = current + os.pathsep + models if current else models
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract: several threads are slower


_fieldcrm_bundle_paths()

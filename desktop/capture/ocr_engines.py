"""The OCR engines a contract can be read with: named here, apart from desktop.capture.ocr,
so the CLI's parser offers them without loading OpenCV (start-up time)."""

ENGINES = ("auto", "rapidocr", "tesseract")

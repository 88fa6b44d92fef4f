"""PyInstaller hook for rapidocr: its YAML configs and the PP-OCR models inside the wheel.

rapidocr picks its inference engine by name at run time (rapidocr.inference_engine.*),
which static analysis cannot see; FieldCRM uses only onnxruntime, so only that engine
is collected and the others (paddle, torch, openvino, tensorrt, mnn) are left out, with
their data files. The models are collected explicitly and the build fails when they are
missing, because FieldCRM never downloads them. In FieldCRM's configuration
(desktop/capture/ocr.py) RapidOCR opens config.yaml, default_models.yaml and all three
models in the wheel (det, cls, rec; checked with an audit hook on open()): nothing else
of the wheel's data to leave out.
"""

from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, get_package_paths

_, _pkg = get_package_paths("rapidocr")
_models = [p for p in (Path(_pkg) / "models").glob("*.onnx") if p.stat().st_size > 100_000]
if len(_models) < 3:
    raise SystemExit(f"hook-rapidocr: expected the PP-OCR det/cls/rec models in {_pkg}/models")

excludedimports = [
    "rapidocr.inference_engine.paddle",
    "rapidocr.inference_engine.pytorch",
    "rapidocr.inference_engine.openvino",
    "rapidocr.inference_engine.tensorrt",
    "rapidocr.inference_engine.mnn",
]
datas = collect_data_files("rapidocr", includes=["**/*.yaml", "**/*.yml", "**/*.txt",
                                                  "models/*.onnx", "**/*.ttf", "**/*.ttc"],
                           excludes=[f"inference_engine/{e.rsplit('.', 1)[1]}/**"
                                     for e in excludedimports])
hiddenimports = [
    "rapidocr.inference_engine.onnxruntime",
    "rapidocr.inference_engine.onnxruntime.main",
    "rapidocr.inference_engine.onnxruntime.provider_config",
]

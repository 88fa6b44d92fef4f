#!/usr/bin/env bash
# Prepare a self-contained Tesseract folder for the macOS bundle (run on the build Mac,
# once per architecture: the arm64 runner makes an arm64 helper, the Intel one x86_64):
#   OUT/tesseract, OUT/lib/*.dylib (rewritten to @executable_path/lib), OUT/tessdata/
# The program comes from Homebrew; dylibbundler copies its libraries beside it and
# rewrites their install names so nothing points into /opt/homebrew or /usr/local.
# Language data is tessdata_fast 4.1.0, checked against pinned SHA-256 (tessdata.sh).
# Then: FIELDCRM_TESSERACT_DIR=OUT pyinstaller build_spec/fieldcrm.spec
set -euo pipefail
OUT="${1:-build/tesseract}"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../tessdata.sh
. "$HERE/../tessdata.sh"

brew install tesseract dylibbundler >/dev/null
prefix="$(brew --prefix tesseract)"
rm -rf "$OUT" && mkdir -p "$OUT/lib" "$OUT/tessdata"
cp "$prefix/bin/tesseract" "$OUT/tesseract"
chmod u+w "$OUT/tesseract"
dylibbundler --overwrite-dir --bundle-deps --create-dir \
  --fix-file "$OUT/tesseract" --dest-dir "$OUT/lib" --install-path @executable_path/lib/
for lang in eng osd chi_sim; do get_tessdata "$lang" "$OUT/tessdata"; done

# Nothing may still point at Homebrew.
if otool -L "$OUT/tesseract" "$OUT"/lib/*.dylib | grep -E "/opt/homebrew|/usr/local/(opt|Cellar)"; then
  echo "Tesseract still links Homebrew paths (above)" >&2; exit 1
fi
TESSDATA_PREFIX="$OUT/tessdata" "$OUT/tesseract" --list-langs | tee /dev/stderr | grep -qx chi_sim
echo "Tesseract ready in $OUT ($(lipo -archs "$OUT/tesseract"))"

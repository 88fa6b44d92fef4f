# Pinned Tesseract language data (tessdata_fast 4.1.0, the files Debian packages as
# tesseract-ocr-chi-sim / -eng 1:4.1.0-2). Keep in step with build_spec/tessdata.ps1.
# Usage (sourced): get_tessdata chi_sim DEST_DIR
TESSDATA_BASE="https://github.com/tesseract-ocr/tessdata_fast/raw/4.1.0"

tessdata_sha256() {
  case "$1" in
    chi_sim) echo a5fcb6f0db1e1d6d8522f39db4e848f05984669172e584e8d76b6b3141e1f730 ;;
    eng)     echo 7d4322bd2a7749724879683fc3912cb542f19906c83bcc1a52132556427170b2 ;;
    osd)     echo 9cf5d576fcc47564f11265841e5ca839001e7e6f38ff7f7aacf46d15a96b00ff ;;
    *) echo "no pinned hash for $1" >&2; return 1 ;;
  esac
}

get_tessdata() {
  local lang="$1" dest="$2" want got
  want="$(tessdata_sha256 "$lang")"
  curl -fsSL --retry 3 -o "$dest/$lang.traineddata" "$TESSDATA_BASE/$lang.traineddata"
  got="$(shasum -a 256 "$dest/$lang.traineddata" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    rm -f "$dest/$lang.traineddata"
    echo "$lang.traineddata: SHA-256 $got, expected $want" >&2
    return 1
  fi
}

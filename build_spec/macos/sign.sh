#!/usr/bin/env bash
# Sign dist/FieldCRM.app with a Developer ID and the hardened runtime, when the signing
# secrets are present; otherwise say so and leave the app ad-hoc signed (it still runs
# on the build machine and in CI; Gatekeeper on a rep's Mac would refuse it).
#   MACOS_CERT_P12_BASE64, MACOS_CERT_PASSWORD   Developer ID Application certificate
#   MACOS_SIGN_IDENTITY                           e.g. "Developer ID Application: X (TEAMID)"
set -euo pipefail
APP="${1:-dist/FieldCRM.app}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ENTITLEMENTS="$HERE/entitlements.plist"

if [ -z "${MACOS_CERT_P12_BASE64:-}" ] || [ -z "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "::notice::macOS signing secrets absent: $APP stays ad-hoc signed and is not notarised"
  exit 0
fi

keychain="$RUNNER_TEMP/fieldcrm-signing.keychain-db"
kc_pass="$(uuidgen)"
security create-keychain -p "$kc_pass" "$keychain"
security set-keychain-settings -lut 21600 "$keychain"
security unlock-keychain -p "$kc_pass" "$keychain"
echo "$MACOS_CERT_P12_BASE64" | base64 --decode > "$RUNNER_TEMP/cert.p12"
security import "$RUNNER_TEMP/cert.p12" -k "$keychain" -P "$MACOS_CERT_PASSWORD" -T /usr/bin/codesign
rm -f "$RUNNER_TEMP/cert.p12"
security set-key-partition-list -S apple-tool:,apple: -s -k "$kc_pass" "$keychain" >/dev/null
security list-keychains -d user -s "$keychain" $(security list-keychains -d user | tr -d '"')

sign() { codesign --force --timestamp --options runtime --sign "$MACOS_SIGN_IDENTITY" "$@"; }
# Inside out: every Mach-O file (the Tesseract helper and its libraries included, which
# PyInstaller did not sign because they are data to it), then the app with entitlements.
find "$APP/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0 |
  while IFS= read -r -d '' f; do
    if file -b "$f" | grep -q "Mach-O"; then sign "$f"; fi
  done
sign --entitlements "$ENTITLEMENTS" "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"
echo "signed $APP as $MACOS_SIGN_IDENTITY"

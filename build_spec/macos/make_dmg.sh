#!/usr/bin/env bash
# Make dist/FieldCRM-<version>-macos-<arch>.dmg from dist/FieldCRM.app: a compressed
# disk image with the app and a link to /Applications (drag to install; no admin rights
# needed: a rep may also drop it in ~/Applications). Then notarise and staple it when
# the notary secrets are present:
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (an app-specific password)
# File times inside come from SOURCE_DATE_EPOCH (set by the spec on the bundle).
set -euo pipefail
VERSION="${1:?version}"
ARCH="${2:?arch (arm64 or x86_64)}"
APP="dist/FieldCRM.app"
DMG="dist/FieldCRM-$VERSION-macos-$ARCH.dmg"

staging="$(mktemp -d)"
ditto "$APP" "$staging/FieldCRM.app"
ln -s /Applications "$staging/Applications"
rm -f "$DMG"
hdiutil create -volname "FieldCRM $VERSION" -srcfolder "$staging" -fs HFS+ \
  -format UDZO -imagekey zlib-level=9 -ov "$DMG"
rm -rf "$staging"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${MACOS_CERT_P12_BASE64:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
fi
if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ] \
   && [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait --timeout 30m
  xcrun stapler staple "$DMG"
  xcrun stapler validate "$DMG"
  spctl --assess --type open --context context:primary-signature --verbose "$DMG"
else
  echo "::notice::notary secrets absent: $DMG is not notarised"
fi
echo "$DMG"

#!/usr/bin/env bash
# Build Wootric Desk for macOS: PyInstaller .app, its self-test, ad-hoc or Developer ID
# signature, and a .dmg made with hdiutil.
#
#   packaging/macos/build.sh
#
# Needs: macOS 12+, Xcode command line tools (codesign), Python 3.11+ and uv. Builds for the
# machine's architecture (arm64 or x86_64). CODESIGN_IDENTITY="Developer ID Application: ..."
# signs for distribution (then notarize: xcrun notarytool submit ... --wait; xcrun stapler
# staple); without it the app is signed ad hoc, which runs on this Mac only. NOT run in this
# project's CI or on the Linux machines it was written on: see packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=$(python3 -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
APP="packaging/dist/Wootric Desk.app"
DMG="packaging/dist/Wootric-Desk-$VERSION-$(uname -m).dmg"
echo "Building wootric-desk $VERSION for macOS ($(uname -m))"

# 1. A build environment from uv.lock: the app's dependencies plus PyInstaller, no test tools.
export UV_PROJECT_ENVIRONMENT="$PWD/packaging/build/venv"
uv sync --frozen --no-dev --group packaging

# 2. The .app (and the one-dir folder it was made from).
start=$(date +%s)
"$UV_PROJECT_ENVIRONMENT/bin/python" -m PyInstaller --noconfirm --distpath packaging/dist \
  --workpath packaging/build/pyinstaller packaging/wootric-desk.spec
echo "App: $(du -sh "$APP" | cut -f1) in $(( $(date +%s) - start )) s"

# 3. The app's own self-test, headless, in a throwaway data folder.
home=$(mktemp -d)
if QT_QPA_PLATFORM=offscreen WOOTRIC_DESK_HOME="$home" "$APP/Contents/MacOS/wootric-desk-cli" --self-test; then
  echo "Self-test: PASS"
else
  echo "Self-test: FAIL"; rm -rf "$home"; exit 1
fi
rm -rf "$home"

# 4. Sign: Developer ID with the hardened runtime when given, else ad hoc ("-").
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$APP"
else
  codesign --force --deep --sign - "$APP"
fi
codesign --verify --deep --strict "$APP"

# 5. The disk image: the app and a link to /Applications to drag it onto.
stage=$(mktemp -d)
cp -R "$APP" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$DMG"
hdiutil create -volname "Wootric Desk" -srcfolder "$stage" -ov -format UDZO "$DMG"
rm -rf "$stage"
echo "DMG: $DMG ($(du -h "$DMG" | cut -f1))"

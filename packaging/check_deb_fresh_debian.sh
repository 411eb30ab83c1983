#!/usr/bin/env bash
# Prove the .deb installs on a fresh Debian 12 and the installed command's self-test passes.
#
#   sudo packaging/check_deb_fresh_debian.sh [ROOT_DIR]     (after packaging/build.py)
#
# Builds a minbase Debian bookworm with debootstrap (from a Debian mirror; DEBIAN_MIRROR
# overrides), installs the newest packaging/dist/wootric-desk_*.deb with apt so its Depends
# are pulled (Recommends left out on purpose: the hard Depends alone must be enough), then
# checks the file layout, that no bundled library is left unresolved, and runs
# `wootric-desk --self-test` headless. Not part of CI: it needs root and a few minutes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT_DIR=${1:-/tmp/wootric-deb-root}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEB=$(ls -t "$HERE"/dist/wootric-desk_*.deb 2>/dev/null | head -1 || true)

[ "$(id -u)" -eq 0 ] || { echo "run as root (debootstrap and chroot need it)" >&2; exit 2; }
[ -n "$DEB" ] || { echo "no packaging/dist/wootric-desk_*.deb: run packaging/build.py first" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install -y debootstrap" >&2; exit 2; }

mounted=""
cleanup() {
  if [ -n "$mounted" ]; then umount "$ROOT_DIR/proc" || true; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
in_root() { chroot "$ROOT_DIR" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

step "fresh Debian bookworm (minbase) in $ROOT_DIR from $MIRROR"
rm -rf "$ROOT_DIR"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$ROOT_DIR" "$MIRROR" > "$ROOT_DIR.debootstrap.log" 2>&1 \
  || { tail -20 "$ROOT_DIR.debootstrap.log"; exit 1; }
echo "debootstrap: $(( $(date +%s) - start )) s, $(du -sh "$ROOT_DIR" | cut -f1)"
cp /etc/resolv.conf "$ROOT_DIR/etc/resolv.conf"
if mount -t proc proc "$ROOT_DIR/proc" 2>/dev/null; then mounted=1; fi
cp "$DEB" "$ROOT_DIR/tmp/"
DEB_NAME=$(basename "$DEB")

step "apt-get install ./$DEB_NAME (Depends only)"
start=$(date +%s)
in_root apt-get update -q > /dev/null
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "/tmp/$DEB_NAME" \
  | tail -15
echo "install: $(( $(date +%s) - start )) s"
in_root dpkg-query -W -f='installed ${Package} ${Version} (${Installed-Size} KiB)\nDepends: ${Depends}\n' wootric-desk

step "installed files"
for path in /usr/bin/wootric-desk /opt/wootric-desk/wootric-desk \
            /usr/share/applications/wootric-desk.desktop \
            /usr/share/metainfo/io.github.wootric_desk.WootricDesk.metainfo.xml \
            /usr/share/icons/hicolor/scalable/apps/wootric-desk.svg \
            /usr/share/icons/hicolor/48x48/apps/wootric-desk.png \
            /usr/share/doc/wootric-desk/copyright; do
  in_root test -e "$path" || { echo "MISSING $path"; exit 1; }  # inside: links are absolute
  echo "ok $path"
done

step "every bundled library resolves on the fresh system"
missing=$(in_root sh -c '
  B=/opt/wootric-desk/_internal
  find /opt/wootric-desk -type f -name "*.so*" | while read -r f; do
    LD_LIBRARY_PATH=$B:$B/PySide6/Qt/lib ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"
  done' | sort -u)
if [ -n "$missing" ]; then echo "$missing"; exit 1; fi
echo "no unresolved libraries"

step "wootric-desk --version"
in_root wootric-desk --version

step "wootric-desk --self-test (QT_QPA_PLATFORM=offscreen)"
in_root env QT_QPA_PLATFORM=offscreen wootric-desk --self-test

step "the xcb platform plugin loads too (QT_QPA_PLATFORM=xcb; no window is opened)"
in_root env QT_QPA_PLATFORM=xcb wootric-desk --self-test | sed -n '2p;$p'

step "RESULT: the .deb installs on a fresh Debian 12 and its self-test passes"

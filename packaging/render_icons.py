"""Render the app icon's PNG sizes and the Windows .ico / macOS .icns from the one SVG.

    python packaging/render_icons.py      # needs rsvg-convert (apt-get install librsvg2-bin)

The outputs are committed; run this again only after changing resources/icons/wootric-desk.svg.
Stdlib only: .ico and .icns both accept PNG payloads, so no imaging library is needed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "wootric-desk.svg"
PNG_SIZES: tuple[int, ...] = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES: tuple[int, ...] = (16, 32, 48, 64, 128, 256)
# icns element types that carry a PNG of the given pixel size (Apple's icns format).
ICNS_TYPES: tuple[tuple[bytes, int], ...] = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
)


def png_path(size: int) -> Path:
    return ICONS / f"wootric-desk-{size}.png"


def render_pngs() -> None:
    tool = shutil.which("rsvg-convert")
    if tool is None:
        sys.exit("rsvg-convert is missing: apt-get install -y librsvg2-bin")
    for size in PNG_SIZES:
        subprocess.run([tool, "-w", str(size), "-h", str(size), str(SVG), "-o", str(png_path(size))],
                       check=True)


def write_ico(target: Path) -> None:
    """An ICO directory of PNG images (Windows Vista and later read PNG entries)."""
    images = [png_path(size).read_bytes() for size in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    directory, payload = b"", b""
    for size, data in zip(ICO_SIZES, images):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        payload += data
        offset += len(data)
    target.write_bytes(header + directory + payload)


def write_icns(target: Path) -> None:
    body = b""
    for kind, size in ICNS_TYPES:
        data = png_path(size).read_bytes()
        body += kind + struct.pack(">I", len(data) + 8) + data
    target.write_bytes(b"icns" + struct.pack(">I", len(body) + 8) + body)


def main() -> int:
    render_pngs()
    write_ico(ICONS / "wootric-desk.ico")
    write_icns(ICONS / "wootric-desk.icns")
    for path in sorted(ICONS.iterdir()):
        print(f"{path.relative_to(ICONS.parent.parent)}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

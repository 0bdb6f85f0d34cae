"""Render the application icon (the SVG beside this script) to every other format.

    python packaging/icons/make_pngs.py

writes, next to this script:

* ``hicolor/NxN/apps/<id>.png`` for N in SIZES (the freedesktop icon theme
  layout, so the folder can be copied under ``share/icons/`` as it is);
* ``<id>.ico`` for Windows (PNG-compressed entries, 16 to 256 pixels);
* ``<id>.icns`` for macOS (PNG entries, 16 to 512 pixels).

Only Qt is used (PySide6's QSvgRenderer, on the offscreen platform), so the
script runs anywhere the app does. Run it after changing the SVG and commit
what it wrote; the release builds use the committed files.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

APP_ID = "io.github.privacy_inspector.PrivacyInspector"
HERE = Path(__file__).resolve().parent
SVG = HERE / f"{APP_ID}.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 32, 48, 64, 128, 256)
# Apple's type codes for PNG-encoded icon images, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def png_path(size: int, base: Path = HERE) -> Path:
    return base / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render(size: int) -> bytes:
    """The SVG drawn at ``size`` x ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG}: Qt cannot read this SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding the given PNGs (allowed in .ico since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding the given PNGs under Apple's type codes."""
    body = b"".join(ICNS_TYPES[size] + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for size in sorted(pngs))
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    pngs = {size: render(size) for size in SIZES}
    for size, blob in pngs.items():
        target = png_path(size)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
        print(f"wrote {target.relative_to(HERE)}")
    (HERE / f"{APP_ID}.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (HERE / f"{APP_ID}.icns").write_bytes(icns({s: pngs[s] for s in ICNS_TYPES}))
    print(f"wrote {APP_ID}.ico and {APP_ID}.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())

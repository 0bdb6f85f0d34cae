"""The application icon: the SVG, and the PNG, ICO and ICNS files made from it."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from tests.packaging.common import APP_ID, PACKAGING

ICONS = PACKAGING / "icons"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_svg_icon_is_square_and_qt_can_draw_it():
    svg = ICONS / f"{APP_ID}.svg"
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == root.get("height")
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    assert renderer.isValid()
    assert renderer.defaultSize().width() == renderer.defaultSize().height()


@pytest.mark.parametrize("size", PNG_SIZES)
def test_a_png_icon_of_each_size_in_the_hicolor_layout(size):
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert png_size(path.read_bytes()) == (size, size)


def test_the_windows_ico_holds_16_to_256_pixels():
    data = (ICONS / f"{APP_ID}.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        image = data[offset:offset + length]
        assert png_size(image) == (width or 256, height or 256)
        sizes.append(width or 256)
    assert sorted(sizes) == [16, 32, 48, 64, 128, 256]


def test_the_macos_icns_holds_16_to_512_pixels():
    data = (ICONS / f"{APP_ID}.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    sizes, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at + 4:at + 8])[0]
        sizes.append(png_size(data[at + 8:at + length])[0])
        at += length
    assert sorted(sizes) == [16, 32, 64, 128, 256, 512]

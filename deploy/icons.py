"""The skill's store icons, drawn from text at packaging time (never committed).

Alexa wants two PNGs: 108x108 (small) and 512x512 (large). Both are drawn the
same way at their own size, so neither is a blurry resize of the other: a calm
teal square, a pale ring, and the skill's initials in white. Pillow is
a development dependency only; the running skill never imports this module.
Output is deterministic: the same Pillow draws the same bytes.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SMALL, LARGE = 108, 512
BACKGROUND = (18, 94, 110)     # deep teal
RING = (168, 218, 220)         # pale blue-green
TEXT = (255, 255, 255)


def initials(name: str) -> str:
    """``Back Pain Guide`` -> ``BPG``."""
    return "".join(word[0] for word in name.split() if word[:1].isalnum()).upper()[:3]


def draw_icon(size: int, label: str) -> Image.Image:
    """One square RGB icon of ``size`` pixels with ``label`` centred on it."""
    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = round(size * 0.08)
    draw.ellipse((margin, margin, size - margin, size - margin),
                 outline=RING, width=max(2, round(size * 0.035)))
    font = ImageFont.load_default(size=round(size * 0.30))
    draw.text((size / 2, size / 2), label, fill=TEXT, font=font, anchor="mm")
    return image


def write_icons(directory: Path, skill_name: str) -> dict[str, Path]:
    """Write ``small-icon.png`` and ``large-icon.png`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    label = initials(skill_name)
    paths = {}
    for kind, size in (("small", SMALL), ("large", LARGE)):
        path = directory / f"{kind}-icon.png"
        draw_icon(size, label).save(path, format="PNG", optimize=True)
        paths[kind] = path
    return paths

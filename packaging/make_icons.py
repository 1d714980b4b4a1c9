"""Draw Lantern's icon and write it for each OS into resources/icons/.

    python packaging/make_icons.py      # needs Pillow (any recent version)

The outputs are committed (they are small), so a build does not need Pillow:
``lantern.png`` (512 px, the window and the Linux hicolor 512x512 icon), ``lantern-256.png``
(hicolor 256x256), ``lantern.ico`` (Windows, 16-256 px) and ``lantern.icns`` (macOS).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZE = 1024

NIGHT = (28, 39, 66, 255)
BRASS = (201, 150, 60, 255)
BRASS_DARK = (150, 104, 34, 255)
GLASS = (255, 221, 128, 255)
FLAME = (255, 145, 36, 255)
CORE = (255, 248, 214, 255)


def draw() -> Image.Image:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((40, 40, SIZE - 40, SIZE - 40), radius=200, fill=NIGHT)

    glow = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(glow).ellipse((232, 300, 792, 860), fill=(255, 190, 80, 150))
    glow = glow.filter(ImageFilter.GaussianBlur(70))
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle((40, 40, SIZE - 40, SIZE - 40), radius=200, fill=255)
    img.paste(glow, (0, 0), Image.composite(glow, Image.new("RGBA", glow.size), mask))
    d = ImageDraw.Draw(img)

    d.ellipse((432, 120, 592, 270), outline=BRASS, width=34)  # handle
    d.polygon([(350, 340), (674, 340), (598, 236), (426, 236)], fill=BRASS)  # roof
    d.rounded_rectangle((322, 326, 702, 376), radius=18, fill=BRASS_DARK)  # roof rim
    d.rounded_rectangle((372, 376, 652, 752), radius=30, fill=GLASS)  # glass
    d.ellipse((447, 470, 577, 690), fill=FLAME)  # flame
    d.polygon([(512, 400), (455, 560), (569, 560)], fill=FLAME)
    d.ellipse((482, 560, 542, 676), fill=CORE)
    for x in (372, 622):  # frame posts
        d.rounded_rectangle((x, 376, x + 30, 752), radius=10, fill=BRASS)
    d.rounded_rectangle((322, 752, 702, 806), radius=18, fill=BRASS_DARK)  # base rim
    d.rounded_rectangle((382, 806, 642, 860), radius=16, fill=BRASS)  # foot
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw()
    big.resize((512, 512), Image.Resampling.LANCZOS).save(OUT / "lantern.png", optimize=True)
    big.resize((256, 256), Image.Resampling.LANCZOS).save(OUT / "lantern-256.png", optimize=True)
    big.save(OUT / "lantern.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    big.save(OUT / "lantern.icns")
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

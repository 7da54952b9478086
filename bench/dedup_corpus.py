"""The dedup quality corpus: scikit-image's bundled photos, their reposted copies, hard negatives.

Every photograph here ships inside scikit-image (no download) under a licence its docs state,
listed in PHOTOS. Copies imitate what reposting does (re-encodes, resizes, watermarks, borders,
flips, small rotations, crops, a phone screenshot), each saved as the JPEG a platform would serve.
Hard negatives are different photos that share something: one screenshot frame, one watermark,
one scene (a stereo pair), or one larger photo (crops that do not overlap).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps
from skimage import data

stereo: Callable[[], tuple[np.ndarray, ...]] = data.stereo_motorcycle  # left, right, disparity
# name -> (loader, licence as scikit-image's docs give it)
PHOTOS: dict[str, tuple[Callable[[], np.ndarray], str]] = {
    "astronaut": (data.astronaut, "public domain (NASA)"),
    "camera": (data.camera, "CC0 (Lav Varshney)"),
    "coffee": (data.coffee, "CC0 (Rachel Michetti)"),
    "chelsea": (data.chelsea, "CC0 (Stefan van der Walt)"),
    "rocket": (data.rocket, "public domain (SpaceX)"),
    "coins": (data.coins, "no known copyright restrictions (Brooklyn Museum)"),
    "hubble_deep_field": (data.hubble_deep_field, "public domain (NASA)"),
    "immunohistochemistry": (data.immunohistochemistry, "no known copyright restrictions (CMMI)"),
    "retina": (data.retina, "CC0 (Mikael Häggström, Wikimedia Commons)"),
    "clock": (data.clock, "public domain (Stefan van der Walt)"),
    "cell": (data.cell, "CC0"),
    "brick": (data.brick, "CC0 (CC0Textures)"),
    "grass": (data.grass, "CC0 (DeviantArt, linolafett)"),
    "gravel": (data.gravel, "CC0 (CC0Textures)"),
    "motorcycle_left": (lambda: stereo()[0], "none stated (Middlebury 2014 stereo datasets)"),
    "motorcycle_right": (lambda: stereo()[1], "none stated (Middlebury 2014 stereo datasets)"),
}
STEREO = ("motorcycle_left", "motorcycle_right")  # one scene from two points: not the same photo
DISJOINT_FROM = ("retina", "hubble_deep_field", "coffee", "rocket", "astronaut")
REPOST_QUALITY = 80  # the JPEG quality a copy is served at, unless its transform sets one
PHONE = (1080, 2340)
HANDLE = "@frontline_osint"
WIDE = (3, 5)  # aspects of the wide photos put in one screenshot frame


@dataclass(frozen=True)
class Copy:
    """One reposted copy of a corpus photo."""

    photo: str
    transform: str
    image: Image.Image


def originals() -> dict[str, Image.Image]:
    """Return the corpus photos by name, as RGB images."""
    return {name: Image.fromarray(load()).convert("RGB") for name, (load, _) in PHOTOS.items()}


def jpeg(img: Image.Image, quality: int = REPOST_QUALITY) -> Image.Image:
    """Return the image after a JPEG round trip at `quality`."""
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return Pillow's bundled font at `size` px."""
    return ImageFont.load_default(size=max(8, size))


def watermark(img: Image.Image) -> Image.Image:
    """Return the image under a channel's watermark: a logo and a large half-opaque handle."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    w, h = img.size
    size = max(12, w // 12)
    draw.text(
        (w // 2, h // 2),
        HANDLE,
        font=font(size),
        fill=(255, 255, 255, 130),
        anchor="mm",
        stroke_width=max(1, size // 16),
        stroke_fill=(0, 0, 0, 110),
    )
    r = max(8, w // 14)
    cx, cy = w - r - w // 40, r + h // 40
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r),
        fill=(200, 30, 30, 150),
        outline=(255, 255, 255, 200),
        width=max(1, r // 8),
    )
    draw.text((cx, cy), "FO", font=font(r), fill=(255, 255, 255, 220), anchor="mm")
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def border(
    img: Image.Image, share: float = 0.10, colour: tuple[int, int, int] = (255, 255, 255)
) -> Image.Image:
    """Return the image inside a uniform border of `share` of its size on each side."""
    return ImageOps.expand(img, (round(img.width * share), round(img.height * share)), colour)


def letterbox(img: Image.Image) -> Image.Image:
    """Return the image centred in a black 9:16 portrait frame (or 16:9 for a portrait image)."""
    w, h = img.size
    size = (w, round(w * 16 / 9)) if w >= h else (round(h * 16 / 9), h)
    canvas = Image.new("RGB", size, (0, 0, 0))
    canvas.paste(img, ((size[0] - w) // 2, (size[1] - h) // 2))
    return canvas


def crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    """Return the image without the given shares of each side."""
    w, h = img.size
    return img.crop(
        (round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom)))
    )


def strip(img: Image.Image, aspect: int) -> Image.Image:
    """Return the middle band of the image that is `aspect` times as wide as it is high."""
    height = min(img.height, round(img.width / aspect))
    top = (img.height - height) // 2
    return img.crop((0, top, img.width, top + height))


def phone_frame() -> tuple[Image.Image, tuple[int, int, int]]:
    """Return a messaging app's screen without its photo, and where the photo goes (x, y, width)."""
    w, h = PHONE
    screen = Image.new("RGB", PHONE, (242, 242, 247))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, w, 90), fill=(250, 250, 250))
    draw.text((60, 45), "12:41", font=font(40), fill=(0, 0, 0), anchor="lm")
    for i in range(4):  # signal bars, then the battery
        draw.rectangle((820 + 18 * i, 62 - 10 * i, 832 + 18 * i, 70), fill=(0, 0, 0))
    draw.rounded_rectangle((920, 38, 1000, 72), radius=8, outline=(0, 0, 0), width=3)
    draw.rectangle((926, 44, 975, 66), fill=(0, 0, 0))
    draw.rectangle((0, 90, w, 250), fill=(255, 255, 255))
    draw.text((50, 170), "<", font=font(70), fill=(0, 122, 255), anchor="lm")
    draw.ellipse((120, 120, 220, 220), fill=(70, 110, 160))
    draw.text((170, 170), "FM", font=font(40), fill=(255, 255, 255), anchor="mm")
    draw.text((250, 145), "Frontline Monitor", font=font(44), fill=(0, 0, 0), anchor="lm")
    draw.text((250, 200), "48,210 subscribers", font=font(32), fill=(130, 130, 130), anchor="lm")
    caption = [
        "Destroyed armour near the river crossing,",
        "geolocated by our volunteers.",
        "Source in comments. #osint #losses",
        "12:38   1.2K views",
    ]
    for i, line in enumerate(caption):
        draw.text((60, 1560 + 56 * i), line, font=font(38), fill=(20, 20, 20))
    draw.rectangle((0, h - 170, w, h), fill=(255, 255, 255))
    draw.rounded_rectangle(
        (40, h - 140, w - 160, h - 60), radius=40, outline=(200, 200, 200), width=3
    )
    draw.text((80, h - 100), "Comment", font=font(38), fill=(150, 150, 150), anchor="lm")
    draw.ellipse((w - 130, h - 140, w - 50, h - 60), fill=(0, 122, 255))
    return screen, (30, 280, w - 60)


def screenshot(img: Image.Image) -> Image.Image:
    """Return a phone screenshot showing the image in a channel post, as a JPEG would carry it."""
    screen, (x, y, width) = phone_frame()
    height = min(1250, round(img.height * width / img.width))
    fitted = ImageOps.contain(img, (width, height), Image.Resampling.LANCZOS)
    screen.paste(fitted, (x + (width - fitted.width) // 2, y))
    return jpeg(screen, 85)


def rotate(img: Image.Image, degrees: float) -> Image.Image:
    """Return the image rotated by `degrees`, same size, corners filled black."""
    return img.rotate(degrees, Image.Resampling.BICUBIC, expand=False, fillcolor=(0, 0, 0))


# transform -> function of the original; every result is served as a JPEG.
TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "jpeg q30": lambda i: jpeg(i, 30),
    "jpeg q50": lambda i: jpeg(i, 50),
    "jpeg q70": lambda i: jpeg(i, 70),
    "resize 50%": lambda i: jpeg(i.resize((i.width // 2, i.height // 2), Image.Resampling.LANCZOS)),
    "grayscale": lambda i: jpeg(i.convert("L")),
    "watermark": lambda i: jpeg(watermark(i)),
    "border 10%": lambda i: jpeg(border(i)),
    "letterbox": lambda i: jpeg(letterbox(i)),
    "flip": lambda i: jpeg(ImageOps.mirror(i)),
    "flip + jpeg q50": lambda i: jpeg(ImageOps.mirror(i), 50),
    "rotate 1°": lambda i: jpeg(rotate(i, 1)),
    "rotate -2°": lambda i: jpeg(rotate(i, -2)),
    "rotate 3°": lambda i: jpeg(rotate(i, 3)),
    "crop 5%": lambda i: jpeg(crop(i, 0.05, 0.05, 0.05, 0.05)),
    "crop 7%": lambda i: jpeg(crop(i, 0.07, 0.07, 0.07, 0.07)),
    "crop 10%": lambda i: jpeg(crop(i, 0.10, 0.10, 0.10, 0.10)),
    "crop 10% one corner": lambda i: jpeg(crop(i, 0.10, 0.10, 0.0, 0.0)),
    "screenshot": screenshot,
}
GROUPS = {  # the targets are set per group of transforms
    "re-encode": ("jpeg q30", "jpeg q50", "jpeg q70"),
    "resize": ("resize 50%",),
    "grayscale": ("grayscale",),
    "watermark": ("watermark",),
    "border/letterbox": ("border 10%", "letterbox"),
    "flip": ("flip", "flip + jpeg q50"),
    "rotation": ("rotate 1°", "rotate -2°", "rotate 3°"),
    "crop": ("crop 5%", "crop 7%", "crop 10%", "crop 10% one corner"),
    "screenshot": ("screenshot",),
}


def clutter(seed: int, size: tuple[int, int] = (1152, 864)) -> Image.Image:
    """Return a synthetic image full of detail (noise at three scales, shapes, text), unlike any."""
    rng = np.random.default_rng(seed)
    w, h = size
    acc = np.zeros((h, w, 3), np.float32)
    for scale in (2, 8, 32):
        small = rng.integers(0, 256, (h // scale, w // scale, 3)).astype(np.uint8)
        acc += np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)) / 3
    img = Image.fromarray(acc.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y, r = (int(v) for v in rng.integers(0, (w, h, 80)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=fill)
        draw.text((x, y), f"{seed}-{r}", font=font(int(rng.integers(12, 60))), fill=fill[::-1])
    return img


def copies(photos: dict[str, Image.Image]) -> list[Copy]:
    """Return every transform of every photo."""
    return [Copy(name, t, fn(img)) for name, img in photos.items() for t, fn in TRANSFORMS.items()]


def disjoint_crops(photos: dict[str, Image.Image]) -> list[tuple[str, Image.Image, Image.Image]]:
    """Return pairs of crops of one photo that share no pixel (left and right, top and bottom)."""
    pairs = []
    for name in DISJOINT_FROM:
        img = photos[name]
        pairs.append((f"{name} left/right", crop(img, 0, 0, 0.55, 0), crop(img, 0.55, 0, 0, 0)))
        pairs.append((f"{name} top/bottom", crop(img, 0, 0, 0, 0.55), crop(img, 0, 0.55, 0, 0)))
    return [(label, jpeg(a), jpeg(b)) for label, a, b in pairs]


def hard_negatives(
    photos: dict[str, Image.Image], reposts: list[Copy]
) -> list[tuple[str, str, Image.Image, Image.Image]]:
    """Return (kind, label, a, b) pairs of different photos that share a frame, mark or scene."""
    pairs: list[tuple[str, str, Image.Image, Image.Image]] = []
    for kind in ("screenshot", "watermark", "letterbox", "border 10%"):
        same_kind = [c for c in reposts if c.transform == kind]
        for one, two in combinations(same_kind, 2):
            pairs.append((f"same {kind}", f"{one.photo}/{two.photo}", one.image, two.image))
    for aspect in WIDE:  # a wide photo leaves most of the screen to the shared frame
        shots = [(name, screenshot(strip(img, aspect))) for name, img in photos.items()]
        for (a, ia), (b, ib) in combinations(shots, 2):
            pairs.append((f"same screenshot, {aspect}:1 photos", f"{a}/{b}", ia, ib))
    left, right = (photos[n] for n in STEREO)
    pairs.append(("stereo pair", "originals", left, right))
    for c in reposts:  # each copy of one view against the other view's original
        if c.photo in STEREO:
            other = right if c.photo == STEREO[0] else left
            pairs.append(("stereo pair", f"{c.photo} {c.transform}", c.image, other))
    rng = random.Random(7)
    for label, x, y in disjoint_crops(photos):
        pairs.append(("disjoint crops", label, *((x, y) if rng.random() < 0.5 else (y, x))))
    return pairs

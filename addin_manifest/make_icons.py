"""Draws the add-in icons (addin_manifest/taskpane/icon-{16,32,64,80}.png): a green tile with a
small sheet grid whose cells are conditionally formatted. Run once: `python addin_manifest/make_icons.py`."""
from pathlib import Path

from PIL import Image, ImageDraw

GREEN, WHITE, RED, AMBER, LIGHT = (33, 115, 70), (255, 255, 255), (242, 105, 107), (255, 199, 80), (198, 239, 206)
SIZES = (16, 32, 64, 80)


def draw(size: int, scale: int = 8) -> Image.Image:
    s = size * scale   # draw large, then downsample for smooth edges
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 6, fill=GREEN)
    margin, cols, rows = s * 0.18, 3, 3
    cell_w, cell_h = (s - 2 * margin) / cols, (s - 2 * margin) / rows
    fills = {(0, 1): RED, (1, 2): AMBER, (2, 0): LIGHT, (2, 2): RED}
    for r in range(rows):
        for c in range(cols):
            x0, y0 = margin + c * cell_w, margin + r * cell_h
            box = (x0 + s * 0.02, y0 + s * 0.02, x0 + cell_w - s * 0.02, y0 + cell_h - s * 0.02)
            d.rectangle(box, fill=fills.get((r, c), WHITE))
    return image.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    folder = Path(__file__).resolve().parent / "taskpane"
    for size in SIZES:
        draw(size).save(folder / f"icon-{size}.png")
        print(folder / f"icon-{size}.png")

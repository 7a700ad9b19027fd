"""Reads the QR codes of rasterised pages with zxing-cpp, and again after
turning a sharper raster of each page into what a cheap phone's photo of
it looks like.

Usage: phone_scan.py SCALE BLUR ANGLE QUALITY PAGE.png CAPTURE.png...

For every page and its capture (the same page at a higher resolution) it
writes PAGE.photo.jpg beside the page (the capture rotated by ANGLE degrees,
blurred with a Gaussian of radius BLUR pixels, downscaled by SCALE, saved
as JPEG of QUALITY) and prints one JSON line:
{"page": ..., "photo": ..., "page_codes": [...], "photo_codes": [...]},
each code as {"text": ..., "version": ...}. One process for every page, so
the interpreter and the decoder load once.
"""

import json
import sys

import zxingcpp
from PIL import Image, ImageFilter


def codes(image):
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [
        {"text": code.text, "version": int(code.extra.get("Version", "0"))}
        for code in found
        if code.valid
    ]


def photo(page, scale, blur, angle):
    image = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(radius=blur))
    width, height = image.size
    size = (round(width * scale), round(height * scale))
    return image.resize(size, resample=Image.Resampling.BOX)


def main():
    scale, blur, angle = (float(value) for value in sys.argv[1:4])
    quality = int(sys.argv[4])
    paths = sys.argv[5:]
    for path, capture in zip(paths[::2], paths[1::2]):
        page = Image.open(path).convert("L")
        photo_path = path.rsplit(".", 1)[0] + ".photo.jpg"
        taken = photo(Image.open(capture).convert("L"), scale, blur, angle)
        taken.save(photo_path, "JPEG", quality=quality)
        taken = Image.open(photo_path)
        print(
            json.dumps(
                {
                    "page": path,
                    "photo": photo_path,
                    "page_codes": codes(page),
                    "photo_codes": codes(taken),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The model input kinds: what one sample is. Data sources (a folder, a stream, a table file) produce one of them."""

IMAGE = "image"  # (C, H, W) floats in [0, 1]
SEQUENCE = "sequence"  # (T, F), z-scored per feature
TABLE = "table"  # (F,), standardised per column

KINDS = (IMAGE, SEQUENCE, TABLE)

MIN_IMAGE_SIDE = 4  # pixels: the image models halve a side at least twice

"""The model input kinds: what one sample is. Data sources (a folder, a stream, a table file) produce one of them."""

IMAGE = "image"  # (C, H, W) floats in [0, 1]
SEQUENCE = "sequence"  # (T, F), z-scored per feature
TABLE = "table"  # (F,), standardised per column

KINDS = (IMAGE, SEQUENCE, TABLE)

IMAGE_CHANNELS = (1, 3)  # grayscale or colour: what the image models and image files take
MIN_IMAGE_SIDE = 4  # pixels: the image models halve a side at least twice
# Pixels an image model trains on at full size at most (512x512): measured on CPU, one training step of the cnn on 8
# images of 512x512 takes 9.6 s and 3.6 GB, on 600x500 photos the default budget was announced at 53 min for 8 of
# them, and 4000x3000 photos would need a 2.3-billion-parameter PCA path: about 37 GB for its weights, gradients and
# Adam's moments alone (computed, not run). Larger image files are scaled with --image-size.
MAX_IMAGE_PIXELS = 512 * 512


def image_size_problem(height: int, width: int) -> str | None:
    """What is wrong with training an image model on `height` x `width` images, or None."""
    if min(height, width) < MIN_IMAGE_SIDE:
        return f"images of {height}x{width} are too small: at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE}"
    if height * width > MAX_IMAGE_PIXELS:
        return f"images of {height}x{width} are too large to train on: at most {MAX_IMAGE_PIXELS:,} pixels (512x512)"
    return None

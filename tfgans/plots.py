"""Scatter plots of 2-D points as images, drawn with NumPy (no plotting library needed).

The sample "grid" of a 2-D run: the real data in grey, the generated points in black, on
fixed axes, so the plots of different steps compare.

    image = scatter_image(generated, reference=real, extent=3.0)   # uint8 [256, 256, 1]
"""

import numpy as np

#: Grey levels: background, axes, real points, generated points.
BACKGROUND, AXES, REFERENCE, SAMPLES = 255, 225, 160, 0


def _pixels(points, extent, size):
    """Pixel (row, column) of each point inside the square [-extent, extent]^2 (y up)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    points = points[np.all(np.isfinite(points), axis=1)]
    scale = (size - 1) / (2.0 * extent)
    cols = np.round((points[:, 0] + extent) * scale).astype(np.int64)
    rows = np.round((extent - points[:, 1]) * scale).astype(np.int64)
    inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    return rows[inside], cols[inside]


def scatter_image(points, reference=None, extent=3.0, size=256, dot=1):
    """Rasterises 2-D points into a greyscale image.

    Args:
        points: generated points [N, 2], drawn black.
        reference: None, or real points [M, 2], drawn grey beneath.
        extent: the axes show [-extent, extent] in x and y (points outside are left out).
        size: the image's side in pixels.
        dot: the half-width of each dot in pixels (1: 3x3 dots).

    Returns:
        uint8 array [size, size, 1]: white background, light axes through the origin.

    Example:
    >>> scatter_image(np.zeros([1, 2]), extent=1.0, size=5, dot=0)[2, 2, 0]
    0
    """
    if not extent > 0:
        raise ValueError(f"`extent` must be positive. Received: extent={extent!r}")
    if int(size) != size or size < 2:
        raise ValueError(f"`size` must be an integer >= 2. Received: size={size!r}")
    size = int(size)
    image = np.full([size, size], BACKGROUND, np.uint8)
    middle = int(round((size - 1) / 2.0))
    image[middle, :] = AXES
    image[:, middle] = AXES
    for values, level in ((reference, REFERENCE), (points, SAMPLES)):
        if values is None:
            continue
        rows, cols = _pixels(values, float(extent), size)
        for dr in range(-dot, dot + 1):
            for dc in range(-dot, dot + 1):
                r, c = rows + dr, cols + dc
                ok = (r >= 0) & (r < size) & (c >= 0) & (c < size)
                image[r[ok], c[ok]] = level
    return image[..., np.newaxis]

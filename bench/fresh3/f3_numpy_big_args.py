"""Satellite tile vegetation survey: each tile comes as red and near-infrared
bands (1280x1280 float32, 6.25 MiB each); per tile compute NDVI, an 8x8 block-averaged
NDVI map, class fractions, percentiles and an edge-density score."""
import sys

import numpy as np

HOT = "survey_tile"

SIDE = 1280
CLASS_EDGES = (-1.0, 0.0, 0.2, 0.4, 0.6, 1.0001)  # water / bare / sparse / moderate / dense


def _block_mean(a, k):
    """Downsample by averaging k x k blocks (SIDE must be a multiple of k)."""
    h, w = a.shape
    return a.reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def survey_tile(red, nir):
    ndvi = (nir - red) / (nir + red + np.float32(1e-6))
    np.clip(ndvi, -1.0, 1.0, out=ndvi)
    coarse = _block_mean(ndvi, 8)
    hist, _ = np.histogram(coarse, bins=CLASS_EDGES)
    fractions = tuple(round(float(h) / coarse.size, 6) for h in hist)
    p10, p50, p90 = (round(float(v), 6) for v in np.percentile(ndvi, [10, 50, 90]))
    gy = np.abs(np.diff(coarse, axis=0))
    gx = np.abs(np.diff(coarse, axis=1))
    edges = float((gy > 0.05).mean() + (gx > 0.05).mean()) / 2
    return {
        "mean_ndvi": round(float(ndvi.mean(dtype=np.float64)), 6),
        "p10": p10, "p50": p50, "p90": p90,
        "fractions": fractions,
        "edge_density": round(edges, 6),
    }


def bench_call(item):
    red, nir = item
    return survey_tile(red, nir)


def items(scale):
    rng = np.random.default_rng(2718)
    tiles = []
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    for i in range(10 * scale):
        fx, fy, ph = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 6.28)
        veg = 0.5 + 0.5 * np.sin(fx * 6.28 * xx + ph) * np.cos(fy * 6.28 * yy)
        red = (0.08 + 0.25 * (1 - veg) + 0.03 * rng.standard_normal((SIDE, SIDE), dtype=np.float32)).astype(np.float32)
        nir = (0.15 + 0.45 * veg + 0.03 * rng.standard_normal((SIDE, SIDE), dtype=np.float32)).astype(np.float32)
        np.clip(red, 0.001, 1, out=red)
        np.clip(nir, 0.001, 1, out=nir)
        tiles.append((red, nir))
    return tiles


def main(scale):
    xs = items(scale)
    results = []
    for red, nir in xs:
        results.append(survey_tile(red, nir))
    dense = sum(r["fractions"][4] for r in results) / len(results)
    print(f"surveyed {len(results)} tiles; mean NDVI "
          f"{sum(r['mean_ndvi'] for r in results) / len(results):.3f}; dense cover {dense:.1%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

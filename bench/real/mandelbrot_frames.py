"""Render a series of Mandelbrot images, each with a higher iteration limit.

What it does: for each frame of a list (image size and iteration limit; the limit
climbs from 10 to 33 and starts again, once per scale) it calls the mandelbrot()
function of NumPy's quickstart guide, which iterates z = z**2 + C over a 401 x 301 grid
of complex numbers with NumPy and notes when each point diverges, and returns that
image. The loop keeps the number of points inside the set for each frame and prints them.

Source: numpy/numpy, doc/source/user/quickstart.rst, section "Indexing with boolean
arrays" (commit 0233ceda6b7040467eaf3042c7092ac517af1658), licence BSD-3-Clause (the
repository's LICENSE.txt).

What I changed: mandelbrot() is copied unchanged from the guide's example, without the
interpreter prompts. Removed: the plotting (``import matplotlib.pyplot as plt``,
``plt.clf()``, ``plt.imshow(mandelbrot(400, 400))``). Added: ``import sys``, FRAMES,
items(), bench_call() and main().

SHAPE: NUMPY ON ARRAYS LARGER THAN L2 - each call allocates a dozen 1-2 MB complex,
integer and boolean arrays per iteration; the arithmetic ufuncs release the GIL on
arrays this large, the boolean-mask assignments (``divtime[div_now] = i``) are numpy
code too. Calls take time in proportion to their iteration limit. The function takes
three arguments, so bench_call(item) unpacks one frame; HOT is the function the loop calls.
"""

import sys

import numpy as np

HOT = "mandelbrot"


def mandelbrot(h, w, maxit=20, r=2):
    """Returns an image of the Mandelbrot fractal of size (h,w)."""
    x = np.linspace(-2.5, 1.5, 4*h+1)
    y = np.linspace(-1.5, 1.5, 3*w+1)
    A, B = np.meshgrid(x, y)
    C = A + B*1j
    z = np.zeros_like(C)
    divtime = maxit + np.zeros(z.shape, dtype=int)

    for i in range(maxit):
        z = z**2 + C
        diverge = abs(z) > r                    # who is diverging
        div_now = diverge & (divtime == maxit)  # who is diverging now
        divtime[div_now] = i                    # note when
        z[diverge] = r                          # avoid diverging too much

    return divtime


FRAMES = 24
SIZE = 100  # the guide's image is 400 x 400 (a 1601 x 1201 grid); this is a 401 x 301 one


def items(scale=1):
    """The frames: (h, w, maxit) with maxit from 10 to 33, once per scale."""
    return [(SIZE, SIZE, 10 + k % FRAMES) for k in range(FRAMES * scale)]


def bench_call(item):
    "One iteration of main()'s loop."
    return mandelbrot(*item)


def main(scale=1):
    frames = items(scale)
    inside = []
    for h, w, maxit in frames:
        image = mandelbrot(h, w, maxit)
        inside.append(int((image == maxit).sum()))
    print("%d frames of %d x %d points: inside the set %s" % (
        len(frames), 4 * SIZE + 1, 3 * SIZE + 1, inside[:FRAMES]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)

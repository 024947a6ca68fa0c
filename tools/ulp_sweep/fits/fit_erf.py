"""Coefficient fits for nnf::math::erf / erfc (compiler/math/nnf_math.cpp).

    python3 -m venv /tmp/fitenv && /tmp/fitenv/bin/pip install mpmath numpy
    /tmp/fitenv/bin/python fit_erf.py

Weighted least squares on Chebyshev nodes (relative error), with the coefficients
rounded to float32 one at a time, lowest first, and the remaining ones refitted
after each rounding. The printed error is the max relative error of the
polynomial with the float32 coefficients, evaluated exactly. The exhaustive
sweeps (nnf_ulp_sweep) are the proof of the bounds, not these numbers.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def f32(x):
    return float(np.float32(x))


def g(a):  # erfc(a) e^{a^2}
    return mp.erfc(a) * mp.exp(a * a)


def H(u):  # a g(a) as a function of u = 1/a^2
    return g(1 / mp.sqrt(u)) / mp.sqrt(u)


def R(z):  # erf(a)/a - 1 as a function of z = a^2
    if z == 0:
        return 2 / mp.sqrt(mp.pi) - 1
    a = mp.sqrt(z)
    return mp.erf(a) / a - 1


def fit(func, lo, hi, center, deg, weight, npts=300):
    xs = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + 0.5) / npts) for k in range(npts)]
    ys = [func(x) for x in xs]
    fixed = []
    for _ in range(deg + 1):
        m = deg + 1 - len(fixed)
        A = mp.matrix(npts, m)
        b = mp.matrix(npts, 1)
        for i, x in enumerate(xs):
            t = x - center
            w = weight(ys[i])
            res = ys[i] - sum(mp.mpf(fixed[j]) * t**j for j in range(len(fixed)))
            for j in range(m):
                A[i, j] = t ** (len(fixed) + j) * w
            b[i] = res * w
        fixed.append(f32(mp.qr_solve(A, b)[0][0]))
    err = 0
    for x in mp.linspace(lo, hi, 3000):
        y = func(x)
        p = sum(mp.mpf(fixed[j]) * (x - center) ** j for j in range(deg + 1))
        err = max(err, abs(p - y) * weight(y))
    return fixed, float(err)


def fit_weighted_x(func, lo, hi, center, deg, weight, npts=150):
    """As fit(), with the weight a function of the argument instead of the value."""
    xs = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + 0.5) / npts) for k in range(npts)]
    ys = [func(x) for x in xs]
    fixed = []
    for _ in range(deg + 1):
        m = deg + 1 - len(fixed)
        A = mp.matrix(npts, m)
        b = mp.matrix(npts, 1)
        for i, x in enumerate(xs):
            t = x - center
            w = weight(x)
            res = ys[i] - sum(mp.mpf(fixed[j]) * t**j for j in range(len(fixed)))
            for j in range(m):
                A[i, j] = t ** (len(fixed) + j) * w
            b[i] = res * w
        fixed.append(f32(mp.qr_solve(A, b)[0][0]))
    err = 0
    for x in mp.linspace(lo, hi, 2000):
        p = sum(mp.mpf(fixed[j]) * (x - center) ** j for j in range(deg + 1))
        err = max(err, abs(p - func(x)) * weight(x))
    return fixed, float(err)


def good_center(mid, width):
    """A float near mid where g is within ~2^-37 of a float (so c0 = g(x0) exactly)."""
    best = None
    for k in range(-2000, 2001):
        x = mp.mpf(mid) + width * k / 2000.0
        y = g(x)
        e = abs(mp.mpf(f32(y)) - y) / y
        if best is None or e < best[0]:
            best = (e, x)
    return f32(best[1])


if __name__ == "__main__":
    rel = lambda y: 1 / y
    c, e = fit(R, 0, 0.25, 0, 4, lambda y: 1 / (1 + y), npts=200)
    print("kErfR (erf(a) = a + a R(a^2), a < 0.5):", e, c)
    for lo, hi, deg in [(0.5, 1.5, 9), (1.5, 2.5, 8)]:
        x0 = good_center((lo + hi) / 2, (hi - lo) * 0.05)
        c, e = fit(g, lo, hi, x0, deg, rel)
        print(f"g on [{lo}, {hi}) in a - {x0!r}:", e, c)
    c, e = fit(H, 1 / mp.mpf(10.06) ** 2, 1 / mp.mpf(2.5) ** 2, 0, 8, rel)
    print("a g(a) on [2.5, 10.06] in u = 1/a^2:", e, c)
    # erf (float32 kernel): R1 on a < 1 (z = a^2 <= 1), relative to erf(a)/a = 1 + R;
    # g on [1, 3.92] around 2.46, weighted by e^{-a^2} (absolute error of erfc = of erf).
    c, e = fit_weighted_x(R, 0, 1, 0, 6, lambda z: 1 / (1 + R(z)))
    print("kErfR1 (erf(a) = a + a R1(a^2), a < 1):", e, c)
    c, e = fit_weighted_x(g, 1, 3.92, f32(2.46), 8, lambda a: mp.exp(-a * a))
    print("kErfG1 (erfc(a) = e^{-a^2} G1(a - 2.46), 1 <= a < 3.92), absolute:", e, c)

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


def fit(func, lo, hi, center, deg, weight, npts=300, weight_on_argument=False, check_points=3000):
    """Weighted least squares on Chebyshev nodes in t = x - center, the coefficients rounded to
    float one at a time and the rest refitted. `weight` takes the function's value, or its
    argument with weight_on_argument; returns the coefficients and the largest weighted error
    on check_points points."""
    xs = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + 0.5) / npts) for k in range(npts)]
    ys = [func(x) for x in xs]
    fixed = []
    for _ in range(deg + 1):
        m = deg + 1 - len(fixed)
        A = mp.matrix(npts, m)
        b = mp.matrix(npts, 1)
        for i, x in enumerate(xs):
            t = x - center
            w = weight(x if weight_on_argument else ys[i])
            res = ys[i] - sum(mp.mpf(fixed[j]) * t**j for j in range(len(fixed)))
            for j in range(m):
                A[i, j] = t ** (len(fixed) + j) * w
            b[i] = res * w
        fixed.append(f32(mp.qr_solve(A, b)[0][0]))
    err = 0
    for x in mp.linspace(lo, hi, check_points):
        y = func(x)
        p = sum(mp.mpf(fixed[j]) * (x - center) ** j for j in range(deg + 1))
        err = max(err, abs(p - y) * weight(x if weight_on_argument else y))
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


def center_near_float(func, lo, hi, n=3000):
    """The float x in [lo, hi] (n + 1 candidates) where func(x) is closest to a float (relative)."""
    best = None
    for k in range(n + 1):
        x = f32(lo + (hi - lo) * k / n)
        y = func(mp.mpf(x))
        e = abs(mp.mpf(f32(y)) - y) / y
        if best is None or e < best[0]:
            best = (e, x)
    return best[1]


def erfc_f32(split=1.35, deg=10):
    """kErfcNear / kErfcFar: erfc(a) e^{a^2} = F / D with
    a < split:  F(a) = (a + 1) g(a) in s = a - x0 (x0 in [0.66, 0.70], >= 1/2 so that s is exact
                for a in [x0/2, 1 + x0)), D = a + 1;
    a >= split: F = a g(a) in s = 1/a - v0, D = a (up to a = 10.06).
    Relative error (weight 1/F); x0, v0 make c0 = F(center) nearly a float."""
    rel = lambda y: 1 / y
    Fn = lambda a: (a + 1) * g(a)
    Hv = lambda v: g(1 / v) / v
    x0 = center_near_float(Fn, 0.66, 0.70)
    c, e = fit(Fn, 0, split, x0, deg, rel, npts=200)
    print(f"kErfcNear: F = (a+1) g(a) on [0, {split}) in a - {x0!r}: 2^{float(mp.log(e, 2)):.1f}", c)
    v0 = center_near_float(Hv, 0.40, 0.43)
    c, e = fit(Hv, 1 / mp.mpf(10.06), 1 / mp.mpf(split), v0, deg, rel, npts=200)
    print(f"kErfcFar: F = a g(a) on [{split}, 10.06] in 1/a - {v0!r}: 2^{float(mp.log(e, 2)):.1f}", c)


if __name__ == "__main__":
    # erfc (float32 kernel): F = c0 + s G(s), degree 10, split at 1.35 (erfc_f32 below).
    erfc_f32()
    # erf (float32 kernel): R1 on a < 1 (z = a^2 <= 1), relative to erf(a)/a = 1 + R;
    # g on [1, 3.92] around 2.46, weighted by e^{-a^2} (absolute error of erfc = of erf).
    c, e = fit(R, 0, 1, 0, 6, lambda z: 1 / (1 + R(z)), npts=150, weight_on_argument=True,
               check_points=2000)
    print("kErfR1 (erf(a) = a + a R1(a^2), a < 1):", e, c)
    c, e = fit(g, 1, 3.92, f32(2.46), 8, lambda a: mp.exp(-a * a), npts=150, weight_on_argument=True,
               check_points=2000)
    print("kErfG1 (erfc(a) = e^{-a^2} G1(a - 2.46), 1 <= a < 3.92), absolute:", e, c)

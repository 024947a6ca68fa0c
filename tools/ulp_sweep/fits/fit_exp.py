"""Coefficient fits for nnf::math::tanh and sigmoid (compiler/math/nnf_math.cpp).

    python3 fit_exp.py        (needs numpy only)

Relative-error fits on Chebyshev nodes with Lawson's iteration (reweighted least
squares converging to the minimax fit), the coefficients rounded to float32 one
at a time, lowest first, and the remaining ones refitted after each rounding.
Double precision is enough here: the errors sought are near 2^-28. The printed
error is the max relative error of the polynomial with the float32 coefficients,
evaluated in double. The exhaustive sweeps (nnf_ulp_sweep) are the proof of the
bounds, not these numbers.

  kExpM2: e^{-2 rho} on |rho| <= ln2/4 (tanh, which evaluates it at -rho), degree 6
  kExpM1: e^{-rho}   on |rho| <= ln2/2 (sigmoid), degree 6
  kTanhP: (tanh(a)/a - 1)/z, z = a^2 <= 0.55^2 (tanh below 0.55), degree 3,
          weighted so that the error of a + a z P(z) in ULPs of tanh(a) is minimal
          (relative error times tanh(a)'s position in its binade, 1 to 2; one ULP is
          2^-23 in these units, so the printed 2^-23.9 is about 0.53 ULP; the plain
          relative error is 2^-24.8)
"""
import numpy as np


def f32(x):
    return float(np.float32(x))


def fit(func, lo, hi, deg, weight, npts=400, iters=60):
    xs = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(npts) + 0.5) / npts)
    ys = func(xs)
    w = weight(xs, ys)
    fixed = []
    while len(fixed) <= deg:
        k = len(fixed)
        res = ys - sum(c * xs**j for j, c in enumerate(fixed))
        A = np.stack([xs**j * w for j in range(k, deg + 1)], axis=1)
        lw = np.ones(npts)
        for _ in range(iters):
            sol = np.linalg.lstsq(A * np.sqrt(lw)[:, None], res * w * np.sqrt(lw), rcond=None)[0]
            e = np.abs(A @ sol - res * w)
            lw = lw * e
            lw /= lw.sum()
        fixed.append(f32(sol[0]))
    xs2 = np.linspace(lo, hi, 20001)
    p = sum(c * xs2**j for j, c in enumerate(fixed))
    err = np.max(np.abs(p - func(xs2)) * weight(xs2, func(xs2)))
    return fixed, np.log2(err)


def relative(xs, ys):
    return 1 / np.abs(ys)


def tanh_ulps(z, _):
    a = np.sqrt(z)
    y = np.tanh(a)
    return z * a / y * (y / 2.0 ** np.floor(np.log2(y)))


def tanh_p(z):
    a = np.sqrt(z)
    return (np.tanh(a) / a - 1) / z


L2 = np.log(2)
for name, func, lo, hi, deg, weight, *npts in [
    ("kExpM2", lambda r: np.exp(-2 * r), -L2 / 4 * 1.002, L2 / 4 * 1.002, 6, relative),
    ("kExpM1", lambda r: np.exp(-r), -L2 / 2 * 1.0005, L2 / 2 * 1.0005, 6, relative),
    ("kTanhP", tanh_p, 1e-6, 0.55**2, 3, tanh_ulps, 2000),
]:
    c, e = fit(func, lo, hi, deg, weight, *npts)
    print(f"{name}: max error 2^{e:.1f}")
    print("   ", ", ".join(f"{x!r}f" for x in c))

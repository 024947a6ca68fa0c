"""Coefficient fit for nnf::math::gelu / gelu_derivative (compiler/math/nnf_math.cpp).

    python3 -m venv /tmp/fitenv && /tmp/fitenv/bin/pip install mpmath numpy
    /tmp/fitenv/bin/python fit_gelu.py

Fits the Mills ratio M(a) = Phi(-a) e^{a^2/2} sqrt(2 pi), scaled by c / float(c) with
c = 1/sqrt(2 pi) (the kernel multiplies by float(c)), on [0, 14.6] as

    M(a) = R'(a) / (a R'(a) + P'(a)),  R' and P' of degree 4, R'(0) = 1, P'(0) = 2 float(c)

for minimal relative error: linearized least squares (residual R'(1 - a M) - M P', weighted by
1 / (M D) with D from the previous iteration), Lawson reweighting towards minimax, and the
coefficients rounded to float one at a time with the rest refitted. Prints the max relative error
of the float coefficients evaluated exactly (about 2^-25.8). The float32 evaluation error and the
sweeps in tests/test_pointwise.cpp (ExactGeluDenseSweepAgainstDoubleReference) are the check.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
A = 14.6
N = 4000
DEG = 4


def main():
    xs = np.array([A * (1 - np.cos(np.pi * (i + 0.5) / N)) / 2 for i in range(N)])
    c = 1 / mp.sqrt(2 * mp.pi)
    cf = mp.mpf(float(np.float32(float(c))))
    mills = [mp.erfc(mp.mpf(x) / mp.sqrt(2)) / 2 * mp.exp(mp.mpf(x) ** 2 / 2) / cf for x in xs]
    m = np.array([float(v) for v in mills])
    one_minus_am = np.array([float(1 - mp.mpf(x) * v) for x, v in zip(xs, mills)])
    s = xs / A
    n_p = DEG + 1
    n_r = DEG + 1
    scale = np.concatenate([A ** -np.arange(n_p), A ** -np.arange(n_r)])
    full_matrix = np.hstack([-(m[:, None] * np.vander(s, n_p, increasing=True)),
                             one_minus_am[:, None] * np.vander(s, n_r, increasing=True)])

    def ev(coefficients, x):
        r = np.zeros_like(x)
        for v in coefficients[::-1]:
            r = r * x + v
        return r

    def fit(fixed, iters=300):
        free = [i for i in range(n_p + n_r) if i not in fixed]
        d_prev = np.ones_like(s)
        lawson = np.ones_like(s)
        best = None
        for it in range(iters):
            w = lawson / (m * d_prev)
            mat = full_matrix * w[:, None]
            rhs = -sum(mat[:, i] * (fixed[i] / scale[i]) for i in fixed)
            sol, *_ = np.linalg.lstsq(mat[:, free], rhs, rcond=None)
            full = np.zeros(n_p + n_r)
            for i in fixed:
                full[i] = fixed[i] / scale[i]
            full[free] = sol
            ca = full * scale
            p, r = ca[:n_p], ca[n_p:]
            rv = ev(r, xs)
            d = xs * rv + ev(p, xs)
            err = rv / d / m - 1
            e = np.abs(err).max()
            if best is None or e < best[0]:
                best = (e, p.copy(), r.copy())
            d_prev = d / d.max()
            if it > 5:
                lawson = lawson * (np.abs(err) / e) ** 0.3 + 1e-3 * lawson.max()
                lawson /= lawson.max()
        return best

    fixed = {0: 2 * float(cf), n_p: 1.0}
    for idx in list(range(1, n_p)) + list(range(n_p + 1, n_p + n_r)):
        _, p, r = fit(fixed)
        fixed[idx] = float(np.float32((list(p) + list(r))[idx]))
    e, p, r = fit(fixed, iters=1)
    print("max relative error with float coefficients: %.3e (2^%.2f)" % (e, np.log2(e)))
    print("kGeluP =", ", ".join("%.9gf" % v for v in p))
    print("kGeluR =", ", ".join("%.9gf" % v for v in r))


if __name__ == "__main__":
    main()

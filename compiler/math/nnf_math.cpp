// Algorithms behind nnf_math.h. Two kinds:
//  * float32 kernels (exp, expm1, log, log1p, tanh, erf, sigmoid, softplus,
//    log_sigmoid): Cody-Waite reduction, minimax polynomials, and error-free
//    transforms (strict_float) only where a rounding would cost the ULP bound.
//    These are the hot activations; their loops are bound by FMA-port
//    operations, so every operation counts (docs/math.md).
//  * erfc: also a float32 kernel (e^{-a^2} g(a), a^2 exact as hi + lo, g from one
//    polynomial with per-lane coefficients and one division, error-free residuals).
// Polynomial coefficients were fitted with mpmath (chebyfit, or weighted least
// squares on Chebyshev nodes with the coefficients rounded to float one at a
// time and the rest refitted; tools/ulp_sweep/fits) and checked by exhaustive
// sweeps (tools/ulp_sweep, docs/math.md).
#include "math/nnf_math.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>

namespace nnf::math {

namespace {

using Halide::Expr;
using Halide::Float;
using Halide::Int;
using Halide::select;

Expr F(float v) {
    return Halide::Internal::make_const(Float(32), v);
}
Expr D(double v) {
    return Halide::Internal::make_const(Float(64), v);
}
Expr I32(int32_t v) {
    return Halide::Internal::make_const(Int(32), v);
}
// A float constant given by its bit pattern (thresholds must be exact).
Expr F_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return F(f);
}

Expr bits(const Expr &x) {
    return Halide::reinterpret(Int(32), x);
}
Expr from_bits(const Expr &i) {
    return Halide::reinterpret(Float(32), i);
}
Expr abs_bits(const Expr &x) {
    return bits(x) & I32(0x7fffffff);
}
// select() on the bit patterns: LLVM may treat a float select under Halide's
// no-signed-zeros flags as free to swap -0 for +0; an integer select may not.
Expr select_exact(const Expr &c, const Expr &a, const Expr &b) {
    return from_bits(select(c, bits(a), bits(b)));
}
// |magnitude| with the sign bit of `sign` (magnitude must be non-negative).
Expr with_sign_of(const Expr &magnitude, const Expr &sign) {
    return from_bits(bits(magnitude) | (bits(sign) & I32(INT32_MIN)));
}
Expr is_negative(const Expr &x) {  // sign bit set (true for -0)
    return bits(x) < I32(0);
}

// c[0] + x (c[1] + x (...)) for coefficients in any range (an initializer_list or an array).
template<typename Coefficients>
Expr horner(const Expr &x, const Coefficients &c) {
    const bool dbl = x.type().is_float() && x.type().bits() == 64;
    auto k = [&](auto v) { return dbl ? D(double(v)) : F(float(v)); };
    auto it = std::end(c);
    Expr r = k(*--it);
    while (it != std::begin(c)) {
        r = r * x + k(*--it);
    }
    return r;
}

// Halide's simplifier treats float + and * as real arithmetic, so every step
// whose rounding matters is inside strict_float. strict_float also forbids FMA
// contraction, so polynomials are evaluated outside it and handed in through a
// Let: strict_float does not reach into the values of lets bound outside it.
Expr bind(const Expr &value, const std::function<Expr(const Expr &)> &body) {
    std::string name = Halide::Internal::unique_name('m');
    Expr var = Halide::Internal::Variable::make(value.type(), name);
    return Halide::Internal::Let::make(name, value, body(var));
}


constexpr float kInf = __builtin_huge_valf();
constexpr float kNaN = __builtin_nanf("");

// ---------------------------------------------------------------------------
// float32 exp core.
// ln2 split so that k * kLn2Hi is exact for |k| <= 2^8 (kLn2Hi has 15 bits).
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.42860682030941723212e-06f;
constexpr float kLog2e = 1.44269504088896341f;
// exp(r) = 1 + r + r^2 P(r) on |r| <= ln2/2, relative error 2^-30.4.
const std::initializer_list<float> kExpP = {0.5f, 0.1666666716337204f, 0.04166646674275398f,
                                            0.00833331048488617f, 0.0013933641603216529f,
                                            0.00019890980911441147f};

// e^r = 1 + r kExpP1(r) (kExpP with its 1 in front).
const std::initializer_list<float> kExpP1 = {1.0f, 0.5f, 0.1666666716337204f, 0.04166646674275398f,
                                             0.00833331048488617f, 0.0013933641603216529f,
                                             0.00019890980911441147f};

// kExpP without its leading 1/2: kExpP(r) = 1/2 + r kExpQ(r).
const std::initializer_list<float> kExpQ = {0.1666666716337204f, 0.04166646674275398f, 0.00833331048488617f,
                                            0.0013933641603216529f, 0.00019890980911441147f};
constexpr float kLn2 = 0.693147180559945309f;
// e^{-2 rho} on |rho| <= ln2/4 (tanh, evaluated at -rho for e^{2 rho}) and e^{-rho} on
// |rho| <= ln2/2 (sigmoid), degree 6,
// relative error 2^-28.2 and 2^-28.3 with these float coefficients (tools/ulp_sweep/fits/fit_exp.py).
const std::initializer_list<float> kExpM2 = {1.0f, -2.0f, 1.999999761581421f, -1.3333216905593872f,
                                             0.6666926145553589f, -0.267798513174057f,
                                             0.08844120800495148f};
const std::initializer_list<float> kExpM1 = {1.0f, -1.0f, 0.4999999403953552f, -0.1666652113199234f,
                                             0.04166826978325844f, -0.008368677459657192f,
                                             0.001382041140459478f};
// kExpM1 without its leading 1: kExpM1(rho) = 1 + rho kExpM1Tail(rho).
const std::initializer_list<float> kExpM1Tail = {-1.0f, 0.4999999403953552f, -0.1666652113199234f,
                                                 0.04166826978325844f, -0.008368677459657192f,
                                                 0.001382041140459478f};
// tanh(a) / a - 1 = z P(z), z = a^2 <= 0.3025 (a < 0.55), degree 3, absolute error 2^-24.8
// (fitted for equal error in ULPs of tanh(a): at most 0.53 ULP).
const std::initializer_list<float> kTanhP = {-0.3333297073841095f, 0.1332079917192459f,
                                             -0.05266520380973816f, 0.016416123136878014f};

// Round-to-nearest by the 1.5 * 2^23 trick, with an exponent bias folded in:
// t = v + kRoundBias(b) holds round(v) + b in its low mantissa bits, so
// t - kRoundBias(b) is round(v) exactly (as a float) and bits(t) << 23 is the
// float 2^(round(v) + b - 127) (for round(v) + b in [1, 254]): one FMA, one
// subtraction and one shift instead of a rounding, two conversions and an add.
// The subtraction must be strict (Halide's simplifier would cancel it).
constexpr float kRoundMagic = 12582912.0f;
constexpr float kRoundBias(int b) {
    return kRoundMagic + float(b);
}
Expr pow2_from_rounded(const Expr &t) {
    return Halide::reinterpret(Float(32), Halide::reinterpret(Halide::UInt(32), t) << 23);
}
// min(c, x) for a constant c that keeps x when x is NaN: strict, so LLVM keeps
// the IR's `c < x ? c : x`, which is x for unordered operands (vminps with x
// second; ARM and PTX select the same way). Later arithmetic then carries the
// NaN to the result, which saves the compare and blend of an explicit NaN select.
Expr min_keep_nan(const Expr &c, const Expr &x) {
    return Halide::strict_float(Halide::min(c, x));
}

// a * b + c rounded once on every x86 path: an FMA where the target has one (LLVM
// contracts the non-strict expression), a double product and sum on the SSE2
// baseline, which has none (a * b rounded first cost sigmoid 0.15 ULP there).
// Other targets contract as the polynomials do (NEON fmla, PTX fma.rn).
Expr x86_without_fma() {
    using Halide::Target;
    Expr fma = Halide::target_has_feature(Target::FMA);
    for (auto f : {Target::AVX512, Target::AVX512_KNL, Target::AVX512_Skylake, Target::AVX512_Cannonlake,
                   Target::AVX512_SapphireRapids, Target::AVX512_Zen4, Target::AVX512_Zen5}) {
        fma = fma || Halide::target_has_feature(f);
    }
    return Halide::target_arch_is(Target::X86) && !fma;
}
Expr mul_add_rounded_once(const Expr &a, const Expr &b, const Expr &c) {
    Expr wide = Halide::cast<double>(a) * Halide::cast<double>(b) + Halide::cast<double>(c);
    return select(x86_without_fma(), Halide::cast<float>(wide), a * b + c);
}

// ---------------------------------------------------------------------------
// float32 log core.
// log1p(f) = f - f^2/2 + f^3 R(f) on [sqrt(1/2) - 1, sqrt(2) - 1], rel. err 2^-28.
const std::initializer_list<float> kLogR = {0.3333333134651184f, -0.2499999701976776f,
                                            0.20000715553760529f, -0.1666780263185501f,
                                            0.14249058067798615f, -0.12425687164068222f,
                                            0.11685419827699661f, -0.11479733884334564f,
                                            0.06971611827611923f};

// log(u) + c/u for a finite normal u > 0 and |c| <= ulp(u) (u + c is the exact value
// whose log is wanted; c/u is its first-order correction, the next term c^2/2u^2 is
// below 2^-48). u = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1 exact (Sterbenz),
// log1p(f) = f - f^2/2 + f^3 R(f) (kLogR), and e ln2 in two parts: e ln2_hi + f is an
// exact fast-two-sum (|e ln2_hi| >= ln2 > |f| or e = 0), and the small terms
// e ln2_lo, -f^2/2 + f^3 R and c/u are added to its low part before the one last
// rounding. The result is a strict expression.
Expr log_plus_correction(const Expr &u, const Expr &c) {
    Expr iu = bits(u);
    Expr e = (iu - I32(0x3f3504f3)) >> 23;
    Expr m = from_bits(iu - (e << 23));
    return bind(Halide::cast<float>(e), [&](const Expr &ef) {
        return bind(Halide::strict_float(m - F(1.0f)), [&](const Expr &f) {
            return bind(f * (f * f) * horner(f, kLogR), [&](const Expr &f3r) {
                // f^2/2 = hh + hl with f = fh + fl, fh = f's leading 12 bits: hh = fh^2/2 is exact and
                // hl = fl (f + fh)/2 is below 2^-11 of it, so its rounding is negligible (rounding
                // f^2/2 itself cost up to 1/8 ULP near x = -0.3).
                Expr fh = from_bits(bits(f) & I32(int32_t(0xfffff000u)));
                Expr fl = f - fh;
                Expr hh = F(0.5f) * (fh * fh);
                Expr hl = F(0.5f) * (fl * (f + fh));
                Expr tail = ef * F(kLn2Lo) + (((f3r - hl) + c / u) - hh);
                Expr a = ef * F(kLn2Hi);
                Expr s = a + f;
                Expr err = f - (s - a);
                return Halide::strict_float(s + (err + tail));
            });
        });
    });
}

// log1p(e^{-a}) for a = |x| >= 0 (inf or NaN allowed), as a strict expression: the
// softplus / log_sigmoid core. E = e^{-a} = 2^k e^{-rho} as in sigmoid (a clamped at 130
// keeping NaN, Cody-Waite rho, k in [-188, 0]), with e^{-rho} = q_hi + q_lo: q_hi = 1 + v
// rounded, q_lo = v - (q_hi - 1) its exact rounding error (q_hi in [0.7, 1.42], so q_hi - 1
// is exact by Sterbenz). E_hi = (q_hi 2^(k+64)) 2^-64 rounds once, into the denormals or
// to an exact 0 where the correctly rounded e^{-a} does, with no subnormal intermediate;
// E_lo = q_lo 2^k the same way. Then u = 1 + E_hi in [1, 2] with its exact rounding error
// E_hi - (u - 1) (Fast2Sum: 1 >= E_hi), so u + c with c = that + E_lo is e^{-a} + 1 to
// ~2^-25.5 relative (the rounding of v and the polynomial, 2^-28.3), and the result is
// log(u) + c/u. Where E_hi < 2^-25, u = 1 and the result is E_hi + E_lo rounded once.
Expr log1p_exp_neg(const Expr &a) {
    return bind(min_keep_nan(F(130.0f), a), [&](const Expr &ac) {
        return bind(ac * F(-kLog2e) + F(kRoundBias(127 + 64)), [&](const Expr &t) {
            return bind(Halide::strict_float(t - F(kRoundBias(127 + 64))), [&](const Expr &kf) {
                return bind(ac + kf * F(kLn2Hi), [&](const Expr &rho_hi) {
                    return bind(Halide::strict_float(rho_hi + kf * F(kLn2Lo)), [&](const Expr &rho) {
                        // v = e^{-rho} - 1 (kExpM1 without its leading 1).
                        Expr v = rho * horner(rho, kExpM1Tail);
                        return bind(v, [&](const Expr &vv) {
                            return bind(Halide::strict_float(F(1.0f) + vv), [&](const Expr &qh) {
                                Expr ql = vv - (qh - F(1.0f));
                                Expr s = pow2_from_rounded(t);
                                Expr e_hi = (qh * s) * F(0x1p-64f);
                                Expr e_lo = (ql * s) * F(0x1p-64f);
                                return bind(Halide::strict_float(e_hi), [&](const Expr &eh) {
                                    return bind(Halide::strict_float(F(1.0f) + eh), [&](const Expr &u) {
                                        Expr c = Halide::strict_float((eh - (u - F(1.0f))) + e_lo);
                                        return log_plus_correction(u, c);
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

// ---------------------------------------------------------------------------
// float32 erf / erfc on a = |x|.
// erfc (float32 kernel, issue #3/#4): erfc(a) = 2^k e^r g(a) on a = |x| in [0, 10.0541954], with
// -a^2 = k ln2 + r and g = erfc(a) e^{a^2} = F / D, F = c0 + s G(s) one polynomial of degree 10 whose
// coefficients are selected per lane:
//   a <  kErfcSplit: F = (a + 1) g(a), s = a - kErfcX0, D = a + 1 (F in [0.81, 1]: flat, so the
//                    rounding of s below x0/2 and of s G barely matter); relative error 2^-28.0
//   a >= kErfcSplit: F = a g(a),       s = 1/a - kErfcV0, D = a;  relative error 2^-27.8
// (coefficients as rounded to float; x0 and v0 chosen so that c0 = F(center) is within 2^-34 of the
// float; tools/ulp_sweep/fits/fit_erf.py, erfc_f32()).
constexpr float kErfcSplit = 1.35f;
constexpr float kErfcX0 = 0.6634266376495361f;
constexpr float kErfcV0 = 0.4005599915981293f;
constexpr int kErfcDeg = 10;
const float kErfcNear[kErfcDeg + 1] = {
    0.8992708325386047f, -0.14316201210021973f, 0.03457154333591461f, 0.009147941134870052f,
    -0.018567919731140137f, 0.015227367170155048f, -0.009556161239743233f, 0.005055565852671862f,
    -0.0025103457737714052f, 0.0014108185423538089f, -0.0005608017090708017f};
const float kErfcFar[kErfcDeg + 1] = {
    0.5269286036491394f, -0.15595096349716187f, -0.07890760898590088f, 0.1651843786239624f,
    -0.11937697231769562f, -0.010522185824811459f, 0.1544414609670639f, -0.23842798173427582f,
    0.14807267487049103f, 0.20186354219913483f, -0.3643798232078552f};
// e^r = 1 + r + r^2 P(r) on |r| <= ln2/2 (+ a little), relative error 2^-28.3 (kExpM1 at -r).
const std::initializer_list<float> kErfcExpP = {0.4999999403953552f, 0.1666652113199234f,
                                                0.04166826978325844f, 0.008368677459657192f,
                                                0.001382041140459478f};
// erf: a < 1: erf(a) = a + a R1(a^2), relative error 2^-29.3 (weighted as kErfR);
// 1 <= a < 3.92: erfc(a) e^{a^2} = G1(a - kErfG1Center), absolute error of erfc 2^-28.4
// (weighted by e^{-a^2}; tools/ulp_sweep/fits/fit_erf.py).
const std::initializer_list<float> kErfR1 = {0.12837916612625122f, -0.3761262595653534f, 0.1128358244895935f,
                                             -0.026853643357753754f, 0.005187962669879198f,
                                             -0.0008006793214008212f, 7.842288323445246e-05f};
constexpr float kErfG1Center = 2.4600000381469727f;
const std::initializer_list<float> kErfG1 = {
    0.21382157504558563f, -0.07637409120798111f, 0.025920957326889038f, -0.008497310802340508f,
    0.0024429152254015207f, -0.0008255394641309977f, 0.0004361634491942823f, 0.00016660084656905383f,
    0.00010234433284495026f};
// (float)erfc(a) == 0 from here on; erf(a) rounds to 1 from here on.
constexpr uint32_t kErfcZeroBits = 0x4120ddfcu;  // 10.0541954
constexpr uint32_t kErfOneBits = 0x407ad445u;    // 3.9192059

// erfc's exact-product steps without double: on x86 without FMA (the SSE2 baseline), a b = p + err
// exactly by Dekker's product with 12-bit high halves (all products exact, strict); elsewhere one FMA.
Expr erfc_product_error(const Expr &a, const Expr &b, const Expr &p) {
    Expr ah = from_bits(bits(a) & I32(int32_t(0xfffff000u)));
    Expr bh = from_bits(bits(b) & I32(int32_t(0xfffff000u)));
    Expr al = a - ah;
    Expr bl = b - bh;
    return Halide::strict_float(((ah * bh - p) + ah * bl + al * bh) + al * bl);
}
// c - a b where it nearly cancels (c - fl(a b) is exact, then the product's error).
Expr erfc_residual(const Expr &a, const Expr &b, const Expr &c) {
    Expr p = Halide::strict_float(a * b);
    Expr no_fma = Halide::strict_float((c - p) - erfc_product_error(a, b, p));
    return select(x86_without_fma(), no_fma, c - a * b);
}
// a b + c with |c| < |a b|: the product's error is added to c first.
Expr erfc_mul_add(const Expr &a, const Expr &b, const Expr &c) {
    Expr p = Halide::strict_float(a * b);
    Expr no_fma = Halide::strict_float(p + (c + erfc_product_error(a, b, p)));
    return select(x86_without_fma(), no_fma, a * b + c);
}

Expr erfc_finish(const Expr &xv, const Expr &a, const Expr &t, const Expr &rh, const Expr &w) {
    Expr tail = a >= F(kErfcSplit);
    // D = a + cD as dh + dl exactly (cD = 1 near, 0 in the tail, where dl = 0).
    return bind(select(tail, F(0.0f), F(1.0f)), [&](const Expr &cd) {
    return bind(Halide::strict_float(a + cd), [&](const Expr &dh) {
    return bind(Halide::strict_float(a - (dh - cd)), [&](const Expr &dl) {
        return bind(Halide::strict_float(F(1.0f) / dh), [&](const Expr &inv) {
            // s = a - x0 (exact for a >= x0/2; below, its rounding is damped by |F'/F| <= 0.2) or 1/a - v0.
            return bind(Halide::strict_float(select(tail, inv, a) - select(tail, F(kErfcV0), F(kErfcX0))), [&](const Expr &s) {
                auto c = [&](int i) { return select(tail, F(kErfcFar[i]), F(kErfcNear[i])); };
                // G = c1 + c2 s + ... + c10 s^9 by Estrin's scheme (the division and a Horner chain
                // of nine FMAs made the loop latency-bound).
                return bind(s * s, [&](const Expr &s2) {
                  return bind(s2 * s2, [&](const Expr &s4) {
                    Expr q1 = (c(1) + c(2) * s) + (c(3) + c(4) * s) * s2;
                    Expr q5 = (c(5) + c(6) * s) + (c(7) + c(8) * s) * s2;
                    Expr G = q1 + s4 * (q5 + s4 * (c(9) + c(10) * s));
                return bind(c(0), [&](const Expr &c0) {
                    // F1 = c0 + d rounded, with its exact rounding error dF (Fast2Sum: |d| <= 0.12 c0;
                    // F is flat, so d's own rounding costs < 2^-28). q0 = F1 / D to a few ULP and the
                    // residual F1 - q0 dh is one FMA (exact); q0 dl is tiny, and rho = F - q0 D.
                    return bind(s * G, [&](const Expr &d) {
                      return bind(Halide::strict_float(c0 + d), [&](const Expr &f1) {
                        return bind(Halide::strict_float(f1 * inv), [&](const Expr &q0) {
                          // (bound first: strict_float would reach into it and forbid the FMA)
                          return bind(erfc_residual(q0, dh, f1), [&](const Expr &res) {
                            Expr rho = Halide::strict_float((res + ((c0 - f1) + d)) - q0 * dl);
                            // g = q0 + rho/D; erfc = 2^k g (1 + r_hi + w) = 2^k (q0 + z), z = q0 r_hi +
                            // (q0 w + (rho/D)(1 + r_hi)) with q0 r_hi exact inside the FMA.
                            Expr z1 = rho * (inv * (F(1.0f) + rh)) + Halide::strict_float(q0 * w);
                            return bind(erfc_mul_add(q0, rh, z1), [&](const Expr &z) {
                                Expr y = Halide::strict_float(q0 + z);
                                Expr e = Halide::strict_float((y * pow2_from_rounded(t)) * F(0x1p-64f));
                                return bind(e, [&](const Expr &ev) {
                                    // erfc(-a) = 2 - erfc(a), rounded once (exactly 2 where erfc(a) <= 2^-24).
                                    return select(is_negative(xv), Halide::strict_float(F(2.0f) - ev), ev);
                                });
                            });
                          });
                        });
                    });
                });
                });
                  });
                });
            });
        });
    });
    });
    });
}

}  // namespace

// ---------------------------------------------------------------------------

Expr exp(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        // x is clamped to [-130, 89] keeping NaN: exp(89) rounds to inf and exp(-130) to 0
        // through the final multiply. Lanes below -104 thus produce an exact 0 from a
        // product near 2^-188, far enough below the denormals that x86 needs no microcode
        // assist (results in [2^-160, 2^-126) cost ~60 cycles a vector; only inputs in
        // [-110, -87.3] reach them).
        Expr xc = min_keep_nan(F(89.0f), Halide::strict_float(Halide::max(F(-130.0f), xv)));
        return bind(xc, [&](const Expr &xcv) {
            // exp(x) = 2^k e^r = (e^r 2^(k -+ 64)) 2^(+-64): the first product is exact (a
            // normal number for every k in [-188, 128]) and the second rounds once, into
            // the denormals or to inf exactly where the correctly rounded result does.
            Expr neg = is_negative(xv);
            Expr bias = select(neg, F(kRoundBias(127 + 64)), F(kRoundBias(127 - 64)));
            return bind(bias, [&](const Expr &bv) {
                return bind(xcv * F(kLog2e) + bv, [&](const Expr &t) {
                    return bind(Halide::strict_float(t - bv), [&](const Expr &kf) {
                        // r = r_hi + r_lo: r_hi exact (kLn2Hi has 15 bits, so with or without
                        // FMA), so 1 + r + r^2 P(r) is formed as 1 + (r_hi + w), w = r_lo + r^2 P(r),
                        // with two roundings that cost at most 1/4 ULP together. r_hi and w are
                        // not strict (FMA); the sums that use them are, so LLVM cannot regroup them.
                        Expr r_hi = xcv - kf * F(kLn2Hi);
                        Expr r_lo = Halide::strict_float(kf * F(-kLn2Lo));
                        return bind(r_hi, [&](const Expr &rh) {
                            return bind(r_lo, [&](const Expr &rl) {
                                return bind(Halide::strict_float(rh + rl), [&](const Expr &r) {
                                    return bind((r * r) * horner(r, kExpP) + rl, [&](const Expr &w) {
                                        Expr p = F(1.0f) + (rh + w);
                                        Expr y = (p * pow2_from_rounded(t)) * select(neg, F(0x1p-64f), F(0x1p64f));
                                        return Halide::strict_float(y);
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

Expr expm1(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        // x is clamped to [-18, 89] keeping NaN: expm1 rounds to -1 below -17.33 and
        // to inf above 88.72 (through the final doubling).
        Expr xc = min_keep_nan(F(89.0f), Halide::strict_float(Halide::max(F(-18.0f), xv)));
        return bind(xc, [&](const Expr &xcv) {
            // expm1(x) = 2 ((s - 1/2) + s u), s = 2^(k-1), k = round(x / ln2) in [-26, 128]
            // (the halving keeps s finite at k = 128), u = e^r - 1 = r_hi + r_lo + w.
            return bind(xcv * F(kLog2e) + F(kRoundBias(126)), [&](const Expr &t) {
                return bind(Halide::strict_float(t - F(kRoundBias(126))), [&](const Expr &kf) {
                    return bind(pow2_from_rounded(t), [&](const Expr &s) {
                        Expr r_hi = xcv - kf * F(kLn2Hi);  // exact, as in exp
                        Expr r_lo = Halide::strict_float(kf * F(-kLn2Lo));
                        return bind(r_hi, [&](const Expr &rh) {
                            return bind(r_lo, [&](const Expr &rl) {
                                return bind(Halide::strict_float(rh + rl), [&](const Expr &r) {
                                    // w = r_lo + e^r - 1 - r = r_lo + (r/2) r + r^3 Q(r): the leading
                                    // r^2/2 is rounded once, in the FMA that adds the rest (r^2 rounded
                                    // first cost up to 0.35 ULP where s - 1/2 + s r cancels, near x = 0.35).
                                    // v is strict: LLVM otherwise factored r out of (r/2) r + r^2 (r Q).
                                    return bind((r * r) * (r * horner(r, kExpQ)), [&](const Expr &r3q) {
                                    Expr v = Halide::strict_float(r3q + rl);
                                    // r/2 by an exponent decrement (r is normal here: |x| >= 2^-24, and
                                    // r = 0 only for x = 0): LLVM reassociates through a float multiply,
                                    // strict or not, and folded r/2 back into the polynomial.
                                    return bind(from_bits(bits(r) - I32(0x00800000)), [&](const Expr &half_r) {
                                    return bind(half_r * r + v, [&](const Expr &w) {
                                        // s - 1/2 is exact for -25 <= k <= 24; above, it rounds to s
                                        // and c restores the -1/2 (both exact); below, the result is
                                        // within 0.71 ULP of -1 either way. s_m1 + s r_hi is kept as
                                        // the exact sum hi + lo (|s_m1| >= |s r_hi| or s_m1 = 0), so
                                        // the small terms are added to it before the one last rounding.
                                        Expr s_m1 = s - F(0.5f);
                                        Expr c = (s - s_m1) - F(0.5f);
                                        Expr sr = s * rh;
                                        Expr hi = s_m1 + sr;
                                        Expr lo = sr - (hi - s_m1);
                                        Expr y = Halide::strict_float(F(2.0f) * (hi + ((lo + s * w) + c)));
                                        // Below 2^-24 expm1(x) rounds to x (this keeps -0, and s r_hi
                                        // = x/2 would lose a bit in the denormals).
                                        return select_exact(abs_bits(xv) < I32(0x33800000), xv, y);
                                    });
                                    });
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

Expr log(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        // Denormals: scale by 2^23 first.
        Expr denormal = bits(xv) < I32(0x00800000);
        Expr xs = Halide::strict_float(select(denormal, xv * F(8388608.0f), xv));
        Expr ix = bits(xs);
        Expr e = (ix - I32(0x3f3504f3)) >> 23;  // m = xs / 2^e in [sqrt(1/2), sqrt(2))
        Expr m = from_bits(ix - (e << 23));
        Expr ef = Halide::cast<float>(e - select(denormal, I32(23), I32(0)));
        return bind(ef, [&](const Expr &efv) {
            return bind(Halide::strict_float(m - F(1.0f)), [&](const Expr &f) {  // exact
                return bind(f * (f * f) * horner(f, kLogR), [&](const Expr &f3r) {
                    Expr hf2 = F(0.5f) * f * f;
                    Expr tail = efv * F(kLn2Lo) + (f3r - hf2);
                    // e ln2_hi + f as an exact sum s + err (|e ln2_hi| >= |f| or e = 0).
                    Expr a = efv * F(kLn2Hi);
                    Expr s = a + f;
                    Expr err = f - (s - a);
                    Expr y = s + (err + tail);
                    y = select(xv == F(kInf), F(kInf), y);
                    y = select(abs_bits(xv) == I32(0), F(-kInf), y);
                    y = select(is_negative(xv) && abs_bits(xv) != I32(0), F(kNaN), y);
                    return Halide::strict_float(select(Halide::is_nan(xv), xv, y));
                });
            });
        });
    });
}

Expr log1p(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return bind(Halide::strict_float(F(1.0f) + xv), [&](const Expr &u) {
            // c = (1 + x) - u, the rounding error of 1 + x, exactly: u - 1 is exact for
            // u < 2^24 (Sterbenz below 2, integer spacing or finer above), and then so is
            // x - (u - 1), a representable rounding error. From 2^24 on c may be off, but
            // |c/u| <= 2^-23 against log(u) > 16 is below 1/16 ULP either way.
            // For |x| < 2^-25, u = 1 and c = x: the result is x exactly (denormals included).
            return bind(Halide::strict_float(xv - (u - F(1.0f))), [&](const Expr &c) {
                Expr y = log_plus_correction(u, c);
                Expr iu = bits(u);
                y = select(iu >= I32(0x7f800000), u, y);  // x = +inf or NaN (u = x)
                // u = 0 (x = -1): -inf; u < 0 (x < -1, or a NaN with the sign bit): NaN.
                y = select(iu <= I32(0), select(iu == I32(0), F(-kInf), F(kNaN)), y);
                // log1p(x) has the sign of x; this turns the +0 computed for x = -0 into -0.
                return from_bits(bits(y) | (bits(xv) & I32(INT32_MIN)));
            });
        });
    });
}

Expr tanh(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return bind(from_bits(abs_bits(xv)), [&](const Expr &a) {
            // |x| < 0.55: tanh(a) = a + a z P(z), z = a^2, P of degree 3 (2^-24.8 relative to tanh(a),
            // at most ~0.53 ULP; fitted in ULPs).
            Expr z = a * a;
            Expr small = a + a * (z * horner(z, kTanhP));
            // Otherwise tanh(a) = 1 - w >= 0.5 with w = 2 / D <= 1/2, D = 1 + e^{2a} (one FMA): D's
            // relative errors reach the result at most halved, the division rounds w by at most 1/4
            // ULP of the result, 1 - w once (max 1.59 ULP, at a = 0.554). One division and no exact
            // sums (a reciprocal estimate with Newton steps measured slower, 4 uops for vrcpps on zmm).
            // From a = 9.1 on (clamped, NaN kept) w < 2^-25, so the result rounds to 1.
            return bind(min_keep_nan(F(9.1f), a), [&](const Expr &ac) {
                // e^{2a} = 2^k e^{2 rho}, k = round(2a / ln2) in [0, 26], rho = a - k ln2/2 in
                // [-ln2/4, ln2/4] (one FMA: the error of the float ln2/2, times k, changes w by less
                // than 2^-28), e^{2 rho} = kExpM2(-rho) (degree 6, 2^-28.2).
                return bind(ac * F(2.0f * kLog2e) + F(kRoundBias(127)), [&](const Expr &t) {
                    return bind(Halide::strict_float(t - F(kRoundBias(127))), [&](const Expr &kf) {
                        Expr nrho = kf * F(0.5f * kLn2) - ac;
                        Expr d = F(1.0f) + pow2_from_rounded(t) * horner(nrho, kExpM2);
                        Expr big = F(1.0f) - F(2.0f) / d;
                        // The condition is an integer compare written as `c < bits(a)` so that neither
                        // Halide nor LLVM inverts it: the select then becomes a mask on big's last
                        // addition (vaddps {k}) instead of a compare and a blend. NaN: `big` is NaN
                        // (from ac) and its bits are above 0.55's.
                        return with_sign_of(select(bits(F(0.55f)) - I32(1) < bits(a), big, small), xv);
                    });
                });
            });
        });
    });
}

Expr erf(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return bind(from_bits(abs_bits(xv)), [&](const Expr &a) {
            // a < 1: erf(a) = a + a R1(a^2), R1 within 2^-29.3 (1 + R1) of erf(a)/a - 1; |a R1| <= 0.16 a,
            // so its rounding (a strict sum: Halide's simplifier rewrites a + a R as a (1 + R), which
            // would round 1 + R) and R1's own error cost well under 1/4 ULP next to the last rounding.
            return bind(a * horner(a * a, kErfR1), [&](const Expr &ar) {
                Expr small = Halide::strict_float(a + ar);
                // 1 <= a < 3.92: erf(a) = 1 - e^{-a^2} g(a) with erfc(a) = e^{-a^2} g(a) <= 0.16, so only
                // erfc's absolute error counts (ulp(erf) = 2^-24 here): h = a^2 rounded costs
                // erfc(a) a^2 2^-24 <= 0.16 ULP; e^{-h} = 2^k (1 + r + r^2 P(r)) (Cody-Waite as in exp,
                // k in [-22, -1]) and g (2^-28.4 absolute) add a few roundings of at most 0.16 ULP each,
                // and 1 - E g is one FMA. a is clamped at 3.92 (NaN kept) only to keep inf out.
                return bind(min_keep_nan(F(3.92f), a), [&](const Expr &al) {
                    return bind(al * al, [&](const Expr &h) {
                        return bind(h * F(-kLog2e) + F(kRoundBias(127)), [&](const Expr &t) {
                            return bind(Halide::strict_float(t - F(kRoundBias(127))), [&](const Expr &kf) {
                                Expr r_hi = kf * F(-kLn2Hi) - h;  // exact, as in exp
                                return bind(Halide::strict_float(r_hi + kf * F(-kLn2Lo)), [&](const Expr &r) {
                                    Expr p = F(1.0f) + r * horner(r, kExpP1);
                                    Expr g = horner(al - F(kErfG1Center), kErfG1);
                                    Expr large = F(1.0f) - (p * pow2_from_rounded(t)) * g;
                                    Expr ab = abs_bits(xv);
                                    Expr y = select(ab < I32(0x3f800000), small, large);
                                    // erf rounds to 1 from kErfOneBits on. An integer compare (Halide
                                    // turns a float a >= c into !(a < c), true for NaN), so it is true
                                    // for NaN too, where min(1, a) keeps the NaN.
                                    y = select(ab >= I32(int32_t(kErfOneBits)), min_keep_nan(F(1.0f), a), y);
                                    return with_sign_of(y, xv);
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

Expr erfc(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        // a = |x| clamped (NaN kept) to [2^-30, kErfcZeroBits]. From kErfcZeroBits on erfc rounds to 0:
        // inf gives 0, and erfc(-a) = 2 - erfc(a) rounds to 2 there (and from 3.8325069 on, by the
        // same rounding). Below 2^-26 erfc rounds to 1 anyway; the lower bound keeps every
        // intermediate normal (x = 0 gave a subnormal r_lo, a microcode assist per vector on x86).
        // max(c, x) strict keeps x when x is NaN, as min_keep_nan does.
        Expr a_lo = Halide::strict_float(Halide::max(F(0x1p-30f), from_bits(abs_bits(xv))));
        return bind(min_keep_nan(F_bits(kErfcZeroBits), a_lo), [&](const Expr &a) {
            // a^2 = hi + lo exactly, as hi and lo2 = 2 lo: with FMA, lo2 = (2a) a - 2 hi in one FMA
            // (2a and 2 hi by exponent increments, so that LLVM sees no a * a to share with hi; for
            // a < 2^-63 this gives lo2 = -2^-126, which does not matter); without FMA (the SSE2
            // baseline), Dekker's product with a 12-bit high half.
            return bind(Halide::strict_float(a * a), [&](const Expr &hi) {
                Expr two_a = from_bits(bits(a) + I32(0x00800000));
                Expr two_hi = from_bits(bits(hi) + I32(0x00800000));
                Expr ah = from_bits(bits(a) & I32(int32_t(0xfffff000u)));
                Expr al = a - ah;
                Expr dekker = Halide::strict_float((((ah * ah - hi) + (ah + ah) * al) + al * al) * F(2.0f));
                Expr lo2 = select(x86_without_fma(), dekker, two_a * a - two_hi);
                return bind(lo2, [&](const Expr &l2) {
                    // -a^2 = k ln2 + r, k = round(-hi / ln2) in [-146, 0], r = r_hi + r_lo with
                    // r_hi = -hi - k ln2_hi exact (Sterbenz) and |r_lo| < 2^-12.
                    return bind(hi * F(-kLog2e) + F(kRoundBias(127 + 64)), [&](const Expr &t) {
                        return bind(Halide::strict_float(t - F(kRoundBias(127 + 64))), [&](const Expr &kf) {
                            return bind(kf * F(-kLn2Hi) - hi, [&](const Expr &rh) {
                                return bind(Halide::strict_float(kf * F(-kLn2Lo) - l2 * F(0.5f)), [&](const Expr &rl) {
                                    return bind(Halide::strict_float(rh + rl), [&](const Expr &r) {
                                        // e^r = 1 + r_hi + w, w = r_lo + r^2 P(r).
                                        return bind((r * r) * horner(r, kErfcExpP) + rl, [&](const Expr &w) {
                                            return erfc_finish(xv, a, t, rh, w);
                                        });
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

Expr sigmoid(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return bind(from_bits(abs_bits(xv)), [&](const Expr &a) {
            // E = e^{-a} in (0, 1]; sigmoid = num / (1 + E) with num = 1 (x >= 0) or E (x < 0).
            // a is clamped (NaN kept) so that no intermediate is subnormal (a microcode assist
            // per operation on x86; tanh-GELU ran at 0.3 instead of 1.3 G elements/s on inputs
            // whose 2u fell there): for x >= 0 at 18, where E < 2^-25 and the result is exactly
            // 1; for x < 0 at 130, where E underflows to an exact 0 from ~2^-188 (the result is
            // E itself down to the denormals, so only its own underflow may saturate it).
            Expr neg = is_negative(xv);
            return bind(min_keep_nan(select(neg, F(130.0f), F(18.0f)), a), [&](const Expr &ac) {
                // E = (e^{-rho} 2^(k + 64)) 2^-64, k = round(-a / ln2) in [-188, 0],
                // rho = a + k ln2 in [-ln2/2, ln2/2] (Cody-Waite: k reaches -188 here).
                return bind(ac * F(-kLog2e) + F(kRoundBias(127 + 64)), [&](const Expr &t) {
                    return bind(Halide::strict_float(t - F(kRoundBias(127 + 64))), [&](const Expr &kf) {
                        return bind(ac + kf * F(kLn2Hi), [&](const Expr &rho_hi) {
                            return bind(Halide::strict_float(rho_hi + kf * F(kLn2Lo)), [&](const Expr &rho) {
                                return bind(horner(rho, kExpM1), [&](const Expr &q) {
                                    Expr e = Halide::strict_float((q * pow2_from_rounded(t)) * F(0x1p-64f));
                                    return bind(e, [&](const Expr &ev) {
                                        return bind(select(neg, ev, F(1.0f)), [&](const Expr &num) {
                                            // y0 = num / (1 + E) carries the rounding of 1 + E; the exact
                                            // y satisfies y = num - E y, so y = num - E y0 (one FMA) has
                                            // y0's error times E / (1 + E) <= 1/2 (max 1.87 ULP measured).
                                            // Below E = 2^-60, 1 + E rounds to 1, y0 = num = E and the
                                            // correction is far below half an ULP: it uses E = 0 there,
                                            // because an FMA whose product E y0 is subnormal takes a
                                            // microcode assist on x86 (tanh-GELU ran 5-10x slower with
                                            // inputs below -7.6, where its sigmoid argument is < -43).
                                            Expr e_fma = select(ev < F(0x1p-60f), F(0.0f), ev);
                                            return bind(num / (F(1.0f) + ev), [&](const Expr &y0) {
                                                return mul_add_rounded_once(-e_fma, y0, num);
                                            });
                                        });
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

Expr softplus(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        // max(x, 0) + log1p(e^{-|x|}): both terms are >= 0, so the sum rounds once with no
        // cancellation; from x = 18 on it rounds to x. NaN comes through L.
        return bind(log1p_exp_neg(from_bits(abs_bits(xv))), [&](const Expr &l) {
            return Halide::strict_float(Halide::max(xv, F(0.0f)) + l);
        });
    });
}

Expr log_sigmoid(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return bind(log1p_exp_neg(from_bits(abs_bits(xv))), [&](const Expr &l) {
            // x >= 0: -L by a sign flip (log_sigmoid(+inf) = -0); x < 0: x - L, both terms <= 0.
            Expr neg_l = from_bits(bits(l) ^ I32(INT32_MIN));
            return select_exact(is_negative(xv), Halide::strict_float(xv - l), neg_l);
        });
    });
}

// ---------------------------------------------------------------------------
// GELU, approximate = "none": x Phi(x) and its derivative Phi(x) + x phi(x), Phi and phi the
// standard normal CDF and density. One kernel in a = |x| serves both signs and both passes:
//
//   Phi(-a) = e^{-a^2/2} g(a),  g(a) = Phi(-a) e^{a^2/2} = sqrt(pi/2) erfcx(a/sqrt2),
//   Phi(a) = 1 - Phi(-a),       phi(a) = e^{-a^2/2} / sqrt(2 pi),
//
// so the derivative shares the exponential: Phi(-a) - a phi(a) = e^{-a^2/2} (g(a) - a/sqrt(2 pi)).
// g = c M with c = 1/sqrt(2 pi) and M the Mills ratio, smooth and positive, from sqrt(pi/2) at 0
// to ~1/a. M is evaluated as
//
//   M(a) = 1 / (a + h(a)) = R'(a) / (a R'(a) + P'(a)),   h = P'/R' ~ 1/M - a, from sqrt(2/pi) to ~1/a,
//
// with P' and R' of degree 4 and positive coefficients, fitted for M's relative error (2^-25.8 with
// float coefficients; tools/ulp_sweep/fits/fit_gelu.py) on [0, 14.6]. That is one division and no
// per-lane coefficient selects, where x Phi(x) through erfc(-x/sqrt2) paid erfc's piecewise
// polynomial, its error-free steps and a Dekker product for x/sqrt2. The form matters: a rational
// P4/R5 in plain Horner form is as accurate but loses up to 5 half-ULPs in its two chains (for
// large a every term of both is of the same size), while here an error in R' or P' reaches M damped
// by h/(a + h) (~1/a^2 for large a), and for small a both chains are dominated by their constant
// terms: at most 2.7 half-ULPs for M with the last FMA and the division (emulated in float; the
// whole forward measures 4.1 ULP, docs/math.md).
// P'(0) = 2 float(c), so that c M(0) = 1/2 exactly with the float c that multiplies M at the end.
// Working in a itself (not a/sqrt2) keeps the exponent exact: a^2 = hi + lo is an exact product,
// so e^{-a^2/2} has its relative accuracy down to the underflow (rounding a^2 alone would cost
// a^2/2 * 2^-24, 9 ULP at a = 13).
namespace {

const float kGeluP[] = {0.797884583f, 0.365356892f, 0.0914915577f, 0.00959860347f, 9.85323595e-07f};
const float kGeluR[] = {1.0f, 0.913335741f, 0.394016862f, 0.0906364247f, 0.00964302197f};
constexpr float kInvSqrt2Pi = 0.398942280401432678f;  // 1/sqrt(2 pi)
// a is clamped here (NaN kept): at the clamp k = round(-a^2 / (2 ln2)) is exactly -191, so the
// scale 2^(k+64) built from t's bits is +0 and Phi(-a) e^{64 ln2} comes out exactly 0, as it must
// for every a >= 14.3 (x Phi(x) and x phi(x) round to 0 there for x = -a; for large |x| the
// products with x are then 0, or NaN for infinite x, as PyTorch's). k >= -191 for every
// a <= 16.27, so the exponent field never wraps. For x > 0 the clamp only changes Phi(x) = 1 - 0.
constexpr float kGeluClamp = 16.27f;

// body(a, s, m, w) with a = |x| (not clamped), e^{-a^2/2} 2^64 = (1 + s) w (w = 2^(k+64)) and
// m = M(a) (so g(a) = c m), for a clamped to [2^-30, kGeluClamp]. The 2^64 keeps the products
// normal down to the clamp (e^{-a^2/2} alone is subnormal from a = 13.2, and every x86 operation
// on a subnormal takes a microcode assist); the lower bound keeps a^2 and its rounding error normal
// (x = 0 gives a = 2^-30, which changes nothing: M and e^{-a^2/2} are flat there, and x itself
// multiplies the result).
Expr gelu_core(const Expr &x,
               const std::function<Expr(const Expr &, const Expr &, const Expr &, const Expr &)> &body) {
    return bind(from_bits(abs_bits(x)), [&](const Expr &a) {
        Expr a_lo = Halide::strict_float(Halide::max(F(0x1p-30f), a));
        return bind(min_keep_nan(F(kGeluClamp), a_lo), [&](const Expr &ac) {
            // a^2 = hi + lo exactly. With FMA, lo = (2a)(a/2) - hi, the factors made by exponent
            // increments so that LLVM sees no a * a to share with hi (it would merge the two
            // products and drop the FMA, as in erfc); without FMA (SSE2), Dekker's product.
            return bind(Halide::strict_float(ac * ac), [&](const Expr &hi) {
                Expr two_a = from_bits(bits(ac) + I32(0x00800000));
                Expr half_a = from_bits(bits(ac) - I32(0x00800000));
                Expr ah = from_bits(bits(ac) & I32(int32_t(0xfffff000u)));
                Expr al = ac - ah;
                Expr dekker = Halide::strict_float(((ah * ah - hi) + (ah + ah) * al) + al * al);
                return bind(select(x86_without_fma(), dekker, two_a * half_a - hi), [&](const Expr &lo) {
                    // e^{-a^2/2} = 2^k e^{R/2}, k = round(-hi / (2 ln2)) in [-191, 0], R = -a^2 - 2k ln2
                    // = R_hi + R_lo: R_hi = -hi - k (2 ln2_hi) is exact (k 2ln2_hi has at most 23 bits,
                    // and the difference cancels by Sterbenz), R_lo = -lo - k (2 ln2_lo) is below 3e-4.
                    return bind(hi * F(-0.5f * kLog2e) + F(kRoundBias(127 + 64)), [&](const Expr &t) {
                        return bind(Halide::strict_float(t - F(kRoundBias(127 + 64))), [&](const Expr &kf) {
                            return bind(kf * F(-2.0f * kLn2Hi) - hi, [&](const Expr &rh) {
                                return bind(kf * F(-2.0f * kLn2Lo) - lo, [&](const Expr &rl) {
                                    // R rounded costs at most 2^-26 relative in e^{R/2} (|R/2| < 0.35).
                                    return bind(Halide::strict_float(rh + rl), [&](const Expr &r) {
                                        // e^{R/2} = kExpM1(-R/2) (degree 6, 2^-28.3) = 1 + s,
                                        // s = R S(R) with kExpM1Tail's coefficients times (-1/2)^(i+1)
                                        // (exact). 1 + s is never rounded: body multiplies by it as
                                        // y + y s, one FMA, instead of rounding 1 + s and then the
                                        // product (s's own rounding is damped by |s| / (1 + s) < 0.6).
                                        float c[6];
                                        float scale = -0.5f;
                                        int i = 0;
                                        for (float v : kExpM1Tail) c[i++] = v * scale, scale *= -0.5f;
                                        Expr sv = r * horner(r, c);
                                        // M = R' / (a R' + P'): both chains run in parallel, then one
                                        // FMA and one division. P' goes through a strict P' + 0 (one
                                        // vaddps; a strict max(0, P') made LLVM drop the FMA) so that
                                        // LLVM cannot see its Horner form: under fast-math it factored
                                        // a out of a R' + a (P' - p0) and evaluated a R' + P' as one
                                        // Horner chain of degree 5, which loses the damping above
                                        // (measured: 5.3 ULP instead of 4.1).
                                        Expr m = bind(horner(ac, kGeluR), [&](const Expr &rv) {
                                            return bind(horner(ac, kGeluP), [&](const Expr &pv) {
                                                return bind(Halide::strict_float(pv + F(0.0f)), [&](const Expr &pm) {
                                                    return rv / (ac * rv + pm);
                                                });
                                            });
                                        });
                                        return bind(sv, [&](const Expr &s) {
                                            return bind(m, [&](const Expr &mv) {
                                                return body(a, s, mv, pow2_from_rounded(t));
                                            });
                                        });
                                    });
                                });
                            });
                        });
                    });
                });
            });
        });
    });
}

// y (1 + s) rounded once: y + y s as one FMA. The product is bound first, because Halide's
// simplifier rewrites y + y s as y (s + 1), which would round s + 1.
Expr times_one_plus(const Expr &y, const Expr &s) {
    return bind(y, [&](const Expr &yv) { return bind(yv * s, [&](const Expr &ys) { return yv + ys; }); });
}

}  // namespace

Expr gelu(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return gelu_core(xv, [&](const Expr &, const Expr &s, const Expr &m, const Expr &w) {
            // q = Phi(-a) 2^64 / c = m (1 + s) w (w exact: one rounding after m). c = float(1/sqrt(2 pi))
            // comes last, in the constant c 2^-64 or in an FMA:
            //   x < 0:  x Phi(x) = (x q) (c 2^-64), the product rounded while it is normal (q c 2^-64
            //           first would be subnormal from x = -13.03, where x Phi(x) is still normal);
            //   x >= 0: x (1 - Phi(-a)) with 1 - Phi(-a) = (2^64 - c q) 2^-64, one FMA and no subnormal
            //           product (Phi(-a) itself is one from a = 13.03 on).
            // Strict, so that neither Halide nor LLVM reassociates the scalings (x 2^64 would
            // overflow for large x).
            return bind(times_one_plus(m, s) * w, [&](const Expr &q) {
                // (bound first: strict_float would reach into it and forbid the FMA)
                return bind(mul_add_rounded_once(-q, F(kInvSqrt2Pi), F(0x1p64f)), [&](const Expr &one_minus) {
                    Expr negative = (xv * q) * F(kInvSqrt2Pi * 0x1p-64f);
                    Expr positive = xv * (one_minus * F(0x1p-64f));
                    return Halide::strict_float(select(is_negative(xv), negative, positive));
                });
            });
        });
    });
}

Expr gelu_derivative(const Expr &x) {
    return bind(x, [](const Expr &xv) {
        return gelu_core(xv, [&](const Expr &a, const Expr &s, const Expr &m, const Expr &w) {
            // Phi(-a) - a phi(a) = c e^{-a^2/2} (M - a); d = (M - a) (1 + s) w = that 2^64 / c, and the
            // derivative is d (c 2^-64) for x < 0 and 1 - c d 2^-64 = (2^64 - c d) 2^-64 for x >= 0
            // (as in gelu). M - a has a zero at a = 0.7518 (gelu's minimum), where only its absolute
            // error (~1e-7) matters. a is the unclamped |x|: for infinite x, w = 0 and d = inf * 0 =
            // NaN, as PyTorch's Phi(x) + x phi(x); for finite a beyond the clamp, d = 0.
            return bind(times_one_plus(m - a, s) * w, [&](const Expr &d) {
                return bind(mul_add_rounded_once(-d, F(kInvSqrt2Pi), F(0x1p64f)), [&](const Expr &one_minus) {
                    Expr negative = d * F(kInvSqrt2Pi * 0x1p-64f);
                    Expr positive = one_minus * F(0x1p-64f);
                    return Halide::strict_float(select(is_negative(xv), negative, positive));
                });
            });
        });
    });
}

const std::vector<FunctionInfo> &functions() {
    static const std::vector<FunctionInfo> table = {
        {"exp", &exp, 1.0},         {"expm1", &expm1, 1.0},       {"log", &log, 1.0},
        {"log1p", &log1p, 1.0},     {"tanh", &tanh, 2.0},         {"erf", &erf, 2.0},
        {"erfc", &erfc, 2.0},       {"sigmoid", &sigmoid, 2.0},   {"softplus", &softplus, 2.0},
        {"log_sigmoid", &log_sigmoid, 2.0},
    };
    return table;
}

const FunctionInfo *find_function(const char *name) {
    for (const auto &f : functions()) {
        if (std::strcmp(f.name, name) == 0) {
            return &f;
        }
    }
    return nullptr;
}

}  // namespace nnf::math

#!/usr/bin/env python3
"""Reference values for Tests/PlannerTests/ClosedFormTests.swift.

Computed by brute-force enumeration of every discrete event of an attempt (which emitters are
bright, which photons reach the beam splitter, which port they leave by, which are detected, which
detectors have noise clicks), in 50-digit arithmetic. It shares no code or algebra with the Swift
closed forms; the coherence terms are the one-line amplitudes written out by hand in docs/planner.md.
"""
from itertools import product
from mpmath import mp, mpf, sqrt, exp, factorial

mp.dps = 50


def round_outcomes(bright_a, bright_b, ta, tb, eta, vis, noise):
    """Yield (probability, clicks_plus, clicks_minus) over every event of one emission round."""
    arrivals = []
    for arr_a in ([True, False] if bright_a else [False]):
        pa = (ta if arr_a else 1 - ta) if bright_a else mpf(1)
        for arr_b in ([True, False] if bright_b else [False]):
            pb = (tb if arr_b else 1 - tb) if bright_b else mpf(1)
            arrivals.append((pa * pb, arr_a, arr_b))
    for p_arr, arr_a, arr_b in arrivals:
        n = int(arr_a) + int(arr_b)
        routings = []  # (probability, photons at plus, photons at minus)
        if n == 0:
            routings = [(mpf(1), 0, 0)]
        elif n == 1:
            routings = [(mpf(1) / 2, 1, 0), (mpf(1) / 2, 0, 1)]
        else:
            bunch = (1 + vis) / 2
            routings = [(bunch / 2, 2, 0), (bunch / 2, 0, 2), ((1 - vis) / 2, 1, 1)]
        for p_route, at_plus, at_minus in routings:
            for det_plus in product([True, False], repeat=at_plus):
                for det_minus in product([True, False], repeat=at_minus):
                    p_det = mpf(1)
                    for d in det_plus + det_minus:
                        p_det *= eta if d else 1 - eta
                    for noise_plus, noise_minus in product([True, False], repeat=2):
                        p_noise = (noise if noise_plus else 1 - noise) * (noise if noise_minus else 1 - noise)
                        click_plus = any(det_plus) or noise_plus
                        click_minus = any(det_minus) or noise_minus
                        yield p_arr * p_route * p_det * p_noise, click_plus, click_minus


def single_click(alpha, ta, tb, eta, vis, noise):
    herald = mpf(0)
    pop = mpf(0)
    for sa, sb in product([0, 1], repeat=2):
        prior = (alpha if sa else 1 - alpha) * (alpha if sb else 1 - alpha)
        for p, cp, cm in round_outcomes(sa, sb, ta, tb, eta, vis, noise):
            if cp != cm:
                herald += prior * p
                if sa != sb:
                    pop += prior * p
    coherence = alpha * (1 - alpha) * sqrt(ta * tb * vis) * eta * (1 - noise)
    return herald, (pop / 2) / herald, coherence / herald


def double_click(ta, tb, eta, vis, noise):
    herald = mpf(0)
    pop = mpf(0)
    for sa, sb in product([0, 1], repeat=2):
        prior = mpf(1) / 4
        first = sum(p for p, cp, cm in round_outcomes(sa, sb, ta, tb, eta, vis, noise) if cp != cm)
        second = sum(p for p, cp, cm in round_outcomes(1 - sa, 1 - sb, ta, tb, eta, vis, noise) if cp != cm)
        herald += prior * first * second
        if sa != sb:
            pop += prior * first * second
    coherence = ta * tb * eta * eta * vis * (1 - noise) ** 2 / 4
    return herald, (pop / 2) / herald, coherence / herald


def pair_source(mu, ta, tb, da, db, f0, n_max=60):
    herald = mpf(0)
    good = mpf(0)
    per_pair = {"both": ta * tb, "a": ta * (1 - tb), "b": (1 - ta) * tb, "none": (1 - ta) * (1 - tb)}
    for n in range(n_max + 1):
        pn = exp(-mu) * mu ** n / factorial(n)
        # multinomial over (both, only a, only b, none)
        for k_both in range(n + 1):
            for k_a in range(n - k_both + 1):
                for k_b in range(n - k_both - k_a + 1):
                    k_none = n - k_both - k_a - k_b
                    mult = factorial(n) / (factorial(k_both) * factorial(k_a) * factorial(k_b) * factorial(k_none))
                    p = pn * mult * per_pair["both"] ** k_both * per_pair["a"] ** k_a * per_pair["b"] ** k_b * per_pair["none"] ** k_none
                    at_a = k_both + k_a
                    at_b = k_both + k_b
                    for noise_a, noise_b in product([True, False], repeat=2):
                        pnz = (da if noise_a else 1 - da) * (db if noise_b else 1 - db)
                        if (at_a > 0 or noise_a) and (at_b > 0 or noise_b):
                            herald += p * pnz
                            if k_both == 1 and k_a == 0 and k_b == 0 and not noise_a and not noise_b:
                                good += p * pnz
    pop = (good * (f0 / 2 + (1 - f0) / 6) + (herald - good) / 4) / herald
    coh = good * (f0 / 2 - (1 - f0) / 6) / herald
    return herald, pop, coh


def show(label, values):
    print(label, ", ".join(mp.nstr(v, 17) for v in values))


if __name__ == "__main__":
    m = mpf
    show("single_click(0.3, 0.02, 0.015, 0.8, 0.9, 1e-3):", single_click(m("0.3"), m("0.02"), m("0.015"), m("0.8"), m("0.9"), m("1e-3")))
    show("single_click(0.1, 0.5, 0.4, 0.9, 0.95, 0.02):", single_click(m("0.1"), m("0.5"), m("0.4"), m("0.9"), m("0.95"), m("0.02")))
    show("double_click(0.02, 0.015, 0.8, 0.9, 1e-3):", double_click(m("0.02"), m("0.015"), m("0.8"), m("0.9"), m("1e-3")))
    show("double_click(0.5, 0.4, 0.9, 0.95, 0.02):", double_click(m("0.5"), m("0.4"), m("0.9"), m("0.95"), m("0.02")))
    show("pair_source(0.05, 0.3, 0.2, 1e-3, 2e-3, 0.97):", pair_source(m("0.05"), m("0.3"), m("0.2"), m("1e-3"), m("2e-3"), m("0.97")))
    show("pair_source(0.4, 0.6, 0.5, 0.01, 0, 0.9):", pair_source(m("0.4"), m("0.6"), m("0.5"), m("0.01"), m("0"), m("0.9"), n_max=45))

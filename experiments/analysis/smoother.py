"""A flexible least-squares smoother for the regression method of the value of information
(Strong, Oakley & Brennan 2014): estimates of ``E[y | X]`` per draw from draws of ``X`` and ``y``.

Cubic regression B-splines (``scipy.interpolate.BSpline``, knots at quantiles) for each variable;
for several variables their tensor products or their sum (an additive fit); a variable with few
distinct values (an integer parameter, a pilot's count) gets one indicator per value. The number
of basis functions is chosen per column of ``y`` by generalised cross-validation. Used by
:mod:`effekt.experiments.analysis.decision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BSpline


class TooFewDraws(ValueError):
    """Too few draws for a regression on this many variables."""

    def __init__(self, draws: int, variables: int):
        super().__init__(f"{draws} draws are too few for a regression on {variables} number(s) (at "
                         f"least {MIN_DRAWS_PER_VARIABLE * variables})")
        self.draws, self.variables = draws, variables


def _basis_1d(x: np.ndarray, m: int) -> np.ndarray:
    """``m`` basis functions of one variable: one indicator per distinct value when there are at
    most ``m`` of them (an integer parameter, a pilot's count: the saturated fit), else B-splines
    of degree ``min(3, m - 1)`` with interior knots at quantiles (``m = 2``: a straight line)."""
    u = np.unique(x)
    if len(u) <= m:
        return (x[:, None] == u[None, :]).astype(float)
    k = min(3, m - 1)
    lo, hi = float(u[0]), float(u[-1])
    inner = np.quantile(x, np.linspace(0, 1, m - k + 1)[1:-1]) if m - k - 1 > 0 else np.zeros(0)
    inner = np.unique(inner[(inner > lo) & (inner < hi)])
    t = np.r_[[lo] * (k + 1), inner, [hi] * (k + 1)]
    return BSpline.design_matrix(np.clip(x, lo, hi), t, k).toarray()


@dataclass(frozen=True)
class Smoother:
    """A regression basis: ``m`` functions per variable, their products (``tensor``) or their sum
    (``additive``; the same for one variable)."""

    m: int
    tensor: bool = True

    def design(self, X: np.ndarray) -> np.ndarray:
        """The design matrix of ``X`` (draws x variables); it spans the constant."""
        blocks = [_basis_1d(X[:, j], self.m) for j in range(X.shape[1])]
        if not self.tensor or len(blocks) == 1:
            return np.hstack(blocks)
        out = blocks[0]
        for b in blocks[1:]:
            out = (out[:, :, None] * b[:, None, :]).reshape(len(X), -1)
        return out

    def size(self, g: int) -> int:
        """Coefficients for ``g`` variables (at most)."""
        return self.m**g if self.tensor else g * (self.m - 1) + 1

    def projector(self, X: np.ndarray) -> np.ndarray:
        """An orthonormal basis of the design's column space (its rank is the number of columns):
        from the eigenvectors of the Gram matrix, twice (as CholeskyQR2 does: the second pass
        restores orthogonality to rounding), ten times faster than an SVD of a tall matrix;
        directions with eigenvalues below 1e-12 of the largest (collinear columns of an additive
        fit) are dropped."""
        Q = self.design(X)
        for _ in range(2):
            w, V = np.linalg.eigh(Q.T @ Q)
            keep = w > w[-1] * 1e-12
            Q = Q @ (V[:, keep] / np.sqrt(w[keep]))
        return Q


SMOOTHER_SIZES = (2, 3, 4, 5, 6, 8, 10, 12)
"""Basis functions per variable the cross-validation chooses from."""

MAX_COEFFICIENTS = 100
"""The largest basis tried (a tensor product of 10 x 10; more costs time and seldom fits better)."""


MIN_DRAWS_PER_VARIABLE = 30
"""The fewest parameter draws per regressed variable: with fewer, the fit is a straight line
through noise and one parameter can take all of the value of information (five draws once gave
100 % of EVPI to one of two parameters). Strong, Oakley and Brennan (2014) work with thousands;
this floor only stops the worst."""


def smoothers(draws: int, variables: int) -> list[Smoother]:
    """The candidate smoothers for ``variables`` variables and ``draws`` draws: at least four
    draws per coefficient, at most :data:`MAX_COEFFICIENTS` (tensor products, and additive fits
    for groups)."""
    out = []
    for m in SMOOTHER_SIZES:
        for tensor in ((True,) if variables == 1 else (True, False)):
            s = Smoother(m, tensor)
            size = s.size(variables)
            if size <= min(max(2, draws // 4), MAX_COEFFICIENTS) and size < draws - 1:
                out.append(s)
    return out


def as_2d(a: np.ndarray) -> np.ndarray:
    """``a`` as a float array with one column per variable (a vector: one variable)."""
    a = np.asarray(a, dtype=float)
    return a[:, None] if a.ndim == 1 else a


def _residual_sum_of_squares(B: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """Per column of ``y``, the residual sum of squares of its least-squares fit on ``B``, from
    the normal equations (one Gram product; directions of eigenvalue below 1e-12 of the largest
    dropped), and the fit's rank."""
    w, V = np.linalg.eigh(B.T @ B)
    keep = w > w[-1] * 1e-12
    z = V[:, keep].T @ (B.T @ y)
    rss = (y**2).sum(axis=0) - ((z**2) / w[keep][:, None]).sum(axis=0)
    return np.clip(rss, 0, None), int(keep.sum())


def choose_smoothers(X: np.ndarray, y: np.ndarray) -> list[Smoother]:
    """Per column of ``y`` (draws x columns), the smoother of ``X`` with the least generalised
    cross-validation score ``D * RSS / (D - p)^2`` (TooFewDraws when none fits)."""
    X, y = as_2d(X), as_2d(y)
    D = len(y)
    candidates = smoothers(D, X.shape[1])
    if not candidates or D < MIN_DRAWS_PER_VARIABLE * X.shape[1]:
        raise TooFewDraws(D, X.shape[1])
    scores = []
    for s in candidates:
        rss, p = _residual_sum_of_squares(s.design(X), y)
        scores.append(D * rss / max(D - p, 1) ** 2)
    best = np.argmin(np.vstack(scores), axis=0)
    return [candidates[i] for i in best]


def conditional_mean(X: np.ndarray, y: np.ndarray, chosen: Sequence[Smoother] | None = None) -> np.ndarray:
    """Least-squares fit of each column of ``y`` on a smooth function of ``X`` (the smoothers
    :func:`choose_smoothers` picks, unless ``chosen``): estimates of ``E[y | X]`` per draw."""
    X, y = as_2d(X), as_2d(y)
    chosen = list(chosen) if chosen is not None else choose_smoothers(X, y)
    out = np.empty_like(y)
    for s in dict.fromkeys(chosen):
        cols = [j for j, c in enumerate(chosen) if c == s]
        Q = s.projector(X)
        out[:, cols] = Q @ (Q.T @ y[:, cols])
    return out

"""The VAR order AIC picks (statsmodels' `VAR.select_order(max_lag).aic`), every order from one QR factorisation."""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.api import VAR

NEAR_TIE = 1e-9  # AICs closer than this (they agree with statsmodels' to ~1e-14) are left to statsmodels to order
RANK_TOLERANCE = 1e-10  # a design column this close to the span of the others: statsmodels' pseudo-inverse decides


def var_order(data: np.ndarray, max_lag: int) -> int:
    """The order p in 0…max_lag whose VAR(p) with a constant has the smallest AIC, as statsmodels selects it.

    As in statsmodels, every order is fitted on the same last n − max_lag rows, and the regressors of order p
    are the first 1 + k·p columns of order max_lag's (constant, then lag 1, lag 2, … of the k series). With
    [Z y] = QR, the residual cross-products of order p are those of the full model (the lower-right block of R)
    plus those of the rows of Qᵀy (R's upper-right block) the order leaves out, so one factorisation replaces
    max_lag + 1 least-squares fits. Too few rows, a rank-deficient design or a near tie between the two best
    orders is handed to statsmodels itself.
    """
    aic = information(data, max_lag)
    if aic is None or _gap(aic) < NEAR_TIE:
        return int(VAR(data).select_order(max_lag).aic)
    return int(np.argmin(aic))


def _gap(aic: np.ndarray) -> float:
    """How far the second-best AIC is above the best."""
    best = np.sort(aic)[:2]
    return float(best[1] - best[0]) if len(best) == 2 else np.inf


def information(data: np.ndarray, max_lag: int) -> np.ndarray | None:
    """AIC of VAR(0…max_lag) on the common sample (statsmodels' formula); None when some order cannot be
    computed this way (fewer rows than statsmodels needs, a rank-deficient design, a singular covariance)."""
    n, k = data.shape
    nobs = n - max_lag
    if max_lag > (n - k - 1) // (k + 1):
        return None
    columns = 1 + k * max_lag
    lagged = (data[max_lag - j : n - j] for j in range(1, max_lag + 1))
    r = np.linalg.qr(np.hstack([np.ones((nobs, 1)), *lagged, data[max_lag:]]), mode="r")
    diagonal = np.abs(np.diag(r)[:columns])
    if diagonal.min() <= RANK_TOLERANCE * diagonal.max():
        return None
    projected, residual = r[:columns, columns:], r[columns:, columns:]  # Qᵀy, and the full model's residual factor
    full = residual.T @ residual
    aic = np.empty(max_lag + 1)
    for p in range(max_lag + 1):
        left_out = projected[1 + k * p :]
        sign, logdet = np.linalg.slogdet((full + left_out.T @ left_out) / nobs)
        if sign <= 0:
            return None
        aic[p] = logdet + 2.0 / nobs * (p * k * k + k)
    return aic

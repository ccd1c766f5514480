r"""Sunspot forecasting, framework-free: standardised (window -> next values) pairs split by year, and the baseline.

Explained in the recurrent-networks chapter. The recipe, the same in both frameworks::

    data = sunspot_windows(window=20, split_year=1950)
    model = sequence_regressor(1, 32, cell="lstm")                  # or cell="gru"; torch or keras
    fit(model, data.x_train, data.y_train, loss="mse", epochs=..., progress=False)
    pred = predict(model, data.x_test)                              # (N, 1), standardised units
    mse = np.mean((pred - data.y_test) ** 2)                        # compare with the persistence baseline:
    base = np.mean((persistence_forecast(data.x_test) - data.y_test) ** 2)
    years = data.scaler.inverse_transform(pred)                     # back to sunspot numbers

Everything a model may use is known before the forecast: the scaler is fitted on the training years only,
and a test window's *inputs* may reach back before ``split_year`` (the past is known) but its targets never.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from coursepkg._validation import as_int, as_numeric_array, check_ndim

__all__ = ["Standardizer", "SunspotWindows", "sunspot_windows", "persistence_forecast"]


class Standardizer(NamedTuple):
    """``z = (value - mean) / std`` with the statistics of the training years."""

    mean: float
    std: float

    def transform(self, values: Any) -> np.ndarray:
        """Sunspot numbers -> standardised values (any shape)."""
        return (np.asarray(values) - self.mean) / self.std

    def inverse_transform(self, values: Any) -> np.ndarray:
        """Standardised values -> sunspot numbers (any shape); MSEs scale by ``std ** 2``."""
        return np.asarray(values) * self.std + self.mean


class SunspotWindows(NamedTuple):
    """Training and test pairs of :func:`sunspot_windows`.

    Attributes
    ----------
    x_train : ndarray of shape (N_train, window, 1)
    y_train : ndarray of shape (N_train, horizon)
    x_test : ndarray of shape (N_test, window, 1)
    y_test : ndarray of shape (N_test, horizon)
        Standardised with ``scaler``.
    years_train, years_test : ndarray of shape (N_train,), (N_test,)
        The year of each pair's first target.
    scaler : Standardizer
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    years_train: np.ndarray
    years_test: np.ndarray
    scaler: Standardizer


def sunspot_windows(
    *, window: int = 20, horizon: int = 1, split_year: int = 1950, dtype: Any = np.float32
) -> SunspotWindows:
    """Yearly sunspot numbers (1700-2008) cut into standardised forecasting pairs, split by year.

    Pair ``i`` holds ``window`` consecutive years as input and the next ``horizon`` years as target
    (:func:`coursepkg.data.windowed`). Pairs whose targets all fall before ``split_year`` train; pairs whose
    first target is ``split_year`` or later test; with ``horizon > 1`` the few pairs whose targets straddle
    the split are dropped. The values are standardised with the mean and standard deviation of the years
    before ``split_year``.

    Parameters
    ----------
    window : int, default 20
        Years of history per input (about two 11-year cycles).
    horizon : int, default 1
        Years predicted at once.
    split_year : int, default 1950
        First held-out target year (1950-2008: 59 test pairs for ``horizon=1``).
    dtype : floating dtype, default np.float32

    Returns
    -------
    SunspotWindows

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If ``window`` or ``horizon`` is < 1, or ``split_year`` leaves no training or no test pair.

    Examples
    --------
    >>> data = sunspot_windows(window=20, split_year=1950)
    >>> data.x_train.shape, data.y_test.shape, int(data.years_test[0]), int(data.years_test[-1])
    ((230, 20, 1), (59, 1), 1950, 2008)
    """
    from coursepkg.data.sequences import load_sunspots, windowed

    func = "sunspot_windows"
    window = as_int(window, "window", func, minimum=1)
    horizon = as_int(horizon, "horizon", func, minimum=1)
    if isinstance(split_year, bool) or not isinstance(split_year, numbers.Integral):
        raise TypeError(f"{func}: `split_year` must be an integer year. Received: split_year={split_year!r}.")
    years, values = load_sunspots(dtype=np.float64)  # (309,), (309,)
    first, last = int(years[0]), int(years[-1])
    if not first + window + horizon <= split_year <= last:
        raise ValueError(
            f"{func}: `split_year` must leave at least one training pair (targets from {first + window} on, "
            f"window={window}, horizon={horizon}) and one test pair (data end in {last}): "
            f"{first + window + horizon} <= split_year <= {last}. Received: split_year={split_year}."
        )
    train_values = values[years < split_year]
    scaler = Standardizer(float(train_values.mean()), float(train_values.std()))
    x, y = windowed(scaler.transform(values), window, horizon)  # (N, window, 1), (N, horizon)
    target_years = years[window : window + len(x)]  # (N,) year of each first target
    train = target_years + horizon - 1 < split_year
    test = target_years >= split_year
    dt = np.dtype(dtype)
    return SunspotWindows(
        x[train].astype(dt), y[train].astype(dt), x[test].astype(dt), y[test].astype(dt),
        target_years[train], target_years[test], scaler,
    )


def persistence_forecast(x: Any, horizon: int = 1) -> np.ndarray:
    """The persistence baseline: every future value equals the last one seen.

    Parameters
    ----------
    x : array of shape (N, T, 1)
        Input windows, as given to the model.
    horizon : int, default 1

    Returns
    -------
    ndarray of shape (N, horizon)
        ``x[:, -1, 0]`` repeated ``horizon`` times.

    Raises
    ------
    ValueError
        If ``x`` is not ``(N, T, 1)``.

    Examples
    --------
    >>> persistence_forecast(np.arange(6.0).reshape(2, 3, 1), horizon=2).tolist()
    [[2.0, 2.0], [5.0, 5.0]]
    """
    func = "persistence_forecast"
    x = as_numeric_array(x, "x", func)
    check_ndim(x, (3,), "x", func, "(N, T, 1)")
    if x.shape[2] != 1:
        raise ValueError(
            f"{func}: `x` must hold one series, shape (N, T, 1); got shape {x.shape}. For several series "
            "forecast each one, x[..., [j]]."
        )
    horizon = as_int(horizon, "horizon", func, minimum=1)
    return np.repeat(x[:, -1, :], horizon, axis=1)  # (N, horizon)

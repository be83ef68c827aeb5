"""The season of a series: its length, detected from the training split, and the lags it anchors.

Everything seasonal reads it here: the seasonal naive baseline and the MASE scale
(:mod:`lstm_tuner.timeseries.baselines`), the windows' anchors (:mod:`lstm_tuner.timeseries.windows`),
and the ``seasonal_delta`` and ``seasonal_growth`` models (:mod:`lstm_tuner.lstm.model`). Plain NumPy.
"""

from __future__ import annotations

import numpy as np

#: An autocorrelation peak below this is no season worth a seasonal-naive forecast.
MIN_SEASON_ACF = 0.3


def anchor_lags(horizon: int, season_length: int | None = None) -> np.ndarray:
    """How far back from a window's origin ``t`` each target step's reference value lies: 1 (the last
    value) for every step, or with a season ``m``, ``m * (k // m + 1) - k`` for step ``k`` (the
    value one season before the target, as the seasonal naive forecast takes it).

    Returns:
        int64 ``[horizon]``, each >= 1: step ``k``'s reference is ``y[t - lags[k]]``.
    """
    steps = np.arange(horizon)
    if not season_length or season_length < 2:
        return np.ones(horizon, dtype=np.int64)
    return season_length * (steps // season_length + 1) - steps


def anchor_matrix(
    horizon: int, season_length: int | None = None, growth: bool = False
) -> np.ndarray:
    """The reference of each target step as a weighted sum of the values before the origin ``t``:
    step ``k``'s reference is ``sum_l M[l - 1, k] * y[t - l]``.

    Without ``growth`` it picks the value :func:`anchor_lags` names (the last value, or the value
    one season before the target). With ``growth`` (``seasonal_growth``) it adds the growth of the
    last season, ``q * (y[t-1] - y[t-1-m])`` with ``q = k // m + 1`` seasons ahead: the forecast of a
    seasonal random walk with drift, ARIMA(0,1,0)(0,1,0)[m], which follows a trend that seasonal
    naive leaves behind.

    Returns:
        float64 ``[span, horizon]``, ``span`` the longest lag used (``m + 1`` with growth).

    Raises:
        ValueError: ``growth`` without a season of at least 2.
    """
    lags = anchor_lags(horizon, season_length)
    span = int(lags.max())
    if growth:
        if not season_length or season_length < 2:
            raise ValueError(f"seasonal_growth needs a season of at least 2, got {season_length!r}")
        span = max(span, season_length + 1)
    matrix = np.zeros((span, horizon))
    matrix[lags - 1, np.arange(horizon)] = 1.0
    if growth:
        seasons_ahead = np.arange(horizon) // season_length + 1
        matrix[0] += seasons_ahead
        matrix[season_length] -= seasons_ahead
    return matrix


#: Of the lags that fit about as well, those whose autocorrelation is this close to the strongest
#: one's are alike; the shortest of them is the season.
MAX_HARMONIC_ACF_GAP = 0.1


def detect_season(train: np.ndarray, max_lag: int | None = None) -> int | None:
    """The season length of a series, from its training split; ``None`` when it has none.

    Candidates are the lags (up to ``max_lag``, default a third of the series and at most 2,000),
    after the autocorrelation of the first differences has first fallen to zero, at which it comes
    back to :data:`MIN_SEASON_ACF` and above the 95% band of white noise (``2 / sqrt(n)``).
    Differencing removes trends, stochastic ones included, which would otherwise make every lag
    look correlated; waiting for the fall sets aside the few steps over which a smooth series'
    differences stay alike. Of those, the season is the one whose
    seasonal naive forecast fits the detrended split best, or of its divisors and multiples that
    fit within 15% as well, the one whose autocorrelation is strongest (the shortest within 0.1): in
    half-hourly demand, say, the weekly season beats the daily one, whose autocorrelation is higher.

    Args:
        train: The target's training split, original units, ``[time]``.
        max_lag: The longest season considered.
    """
    train = np.asarray(train, dtype=np.float64)
    diffs = np.diff(train)
    n = len(diffs)
    max_lag = min(min(n // 3, 2000) if max_lag is None else max_lag, n - 2)
    if max_lag < 3 or not np.std(diffs) > 0:
        return None
    centered = diffs - diffs.mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centered, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 2]
    acf = acf / acf[0]
    # A season is a return of the correlation after it has died out: the lags before the first
    # one at which it is <= 0 (a smooth series' differences stay alike over a few steps) are none.
    nonpositive = np.flatnonzero(acf[1 : max_lag + 1] <= 0)
    first = int(nonpositive[0]) + 2 if len(nonpositive) else max_lag + 1
    lags = np.arange(max(2, first), max_lag + 1)
    peaks = lags[acf[lags] >= max(MIN_SEASON_ACF, 2 / np.sqrt(n))]
    if not len(peaks):
        return None
    # Judged without the linear trend (which would favour short lags), all on the same steps.
    steps = np.arange(len(train))
    level = train - np.polyval(np.polyfit(steps, train, 1), steps)
    start = int(peaks.max())
    fit = np.array([np.mean(np.abs(level[start:] - level[start - m : -m])) for m in peaks])
    # Multiples of the season fit as well, up to sampling noise, and so can its divisors (the
    # recent past is close in level). Of the best lag, its divisors and its multiples within 15% of
    # the best fit, the season is the one whose differences correlate most (within 0.1: the
    # shortest). Monthly orders with a yearly cycle fit best at 3 months (the business cycle keeps
    # recent values close) but correlate at 12 (0.86) far more than at 3 (0.62).
    best = int(peaks[np.argmin(fit)])
    tolerance = 0.15 * fit.min() + 1e-9 * np.std(level)
    close = (fit <= fit.min() + tolerance) & ((best % peaks == 0) | (peaks % best == 0))
    strongest = acf[peaks[close]].max()
    chosen = close & (acf[peaks] >= strongest - MAX_HARMONIC_ACF_GAP)
    return int(peaks[chosen].min())


def resolve_season(
    configured: int | None, train: np.ndarray, window_size: int
) -> tuple[int | None, str, int | None]:
    """The series' season and the season a model anchors to, from the config or the data.

    Args:
        configured: ``data.season_length``: a season length (1 for none), or ``None`` to detect it.
        train: The target's training split, original units, ``[time]``.
        window_size: The model's input window.

    Returns:
        ``(season_length, source, anchor_season)``: the series' season (``None`` for none), a
        phrase for the summary saying where it came from, and :func:`model_season`'s season.
    """
    if configured is not None:
        season, source = (configured if configured > 1 else None), "data.season_length"
    else:
        season, source = detect_season(train), "detected from the training split"
    anchor = model_season(season, train, window_size, configured=configured is not None)
    return season, source, anchor


def model_season(
    season_length: int | None, train: np.ndarray, window_size: int, *, configured: bool
) -> int | None:
    """The season a ``seasonal_delta`` model anchors to: the series' season when it fits in the
    window; else, unless the season was configured (``data.season_length``), the best one that does
    (hourly data: the day, when the week is longer than the window).

    Args:
        season_length: The series' season, configured or detected.
        train: The target's training split, original units, ``[time]``.
        window_size: The model's input window.
        configured: Whether ``season_length`` was set by the user rather than detected.
    """
    if season_length and season_length > window_size and not configured:
        return detect_season(train, max_lag=window_size)
    return season_length


def short_window_note(season_length: int | None, window_size: int) -> str:
    """The sentence a run says (before the search, and in summary.md) when the season is longer
    than the window; ``""`` when it is not, or when the window is not known (0)."""
    if not season_length or not window_size or season_length <= window_size:
        return ""
    return (
        f"The season ({season_length} steps) is longer than data.window_size ({window_size}): the "
        "model cannot see one season back, as seasonal naive does; a window of at least "
        f"{season_length + 1} steps lets it."
    )

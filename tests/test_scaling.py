"""input_scaling='robust' and target_scaling='standard', in the estimators and the searches."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)
from skreg._preprocessing import robust_scale, robust_scaling_stats

RAW = dict(input_scaling=None)
FAST = dict(hidden_layer_sizes=(16,), batch_size=32, learning_rate_init=0.01, max_iter=20,
            random_state=0)


@pytest.fixture
def clf_data():
    X, y = make_classification(300, 6, n_informative=4, random_state=0)
    return X, y


@pytest.fixture
def reg_data():
    X, y = make_regression(300, 6, n_informative=4, noise=5.0, random_state=0)
    return X, y


def test_robust_stats_are_median_and_iqr():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 2, 1001), np.zeros(1001),
                         np.r_[np.zeros(1000), 4.0]])
    center, scale = robust_scaling_stats(X)
    q25, q50, q75 = np.quantile(X[:, 0], [0.25, 0.5, 0.75])
    np.testing.assert_allclose(center[0], q50)
    np.testing.assert_allclose(scale[0], q75 - q25)
    assert scale[1] == 1.0               # constant feature
    assert scale[2] == 2.0               # IQR 0: half the range


def test_smooth_clip_bounds_outliers_and_keeps_order():
    X = np.r_[np.linspace(-1, 1, 99), 30.0, -500.0][:, None]
    Z = robust_scale(X, *robust_scaling_stats(X))
    assert np.abs(Z).max() < 3.0
    assert np.abs(robust_scale(np.array([[1e300]]), np.zeros(1), np.ones(1))) <= 3.0
    assert np.all(np.diff(Z[np.argsort(X[:, 0]), 0]) > 0)   # order kept
    # near the centre the clip is close to the identity
    center, scale = robust_scaling_stats(X)
    z = (X[49, 0] - center[0]) / scale[0]
    assert abs(Z[49, 0] - z) < 1e-3


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_robust_scaling_makes_fit_invariant_to_feature_units(Est, clf_data, reg_data):
    X, y = clf_data if Est is RegularizedMLPClassifier else reg_data
    if Est is RegularizedMLPRegressor:
        y = y / y.std()
    shift, unit = np.arange(6) * 100.0, 10.0 ** np.arange(-3, 3)
    a = Est(**FAST).fit(X, y)             # input_scaling='robust' is the default
    b = Est(**FAST).fit(X * unit + shift, y)
    out_a = a.predict_proba(X) if hasattr(a, "predict_proba") else a.predict(X)
    out_b = (b.predict_proba(X * unit + shift) if hasattr(b, "predict_proba")
             else b.predict(X * unit + shift))
    np.testing.assert_allclose(out_a, out_b, atol=1e-5)
    # without scaling the same change of units changes the model
    c = Est(**{**FAST, **RAW}).fit(X * unit + shift, y)
    out_c = (c.predict_proba(X * unit + shift) if hasattr(c, "predict_proba")
             else c.predict(X * unit + shift))
    assert np.abs(out_a - out_c).max() > 1e-2


def test_robust_scaling_rescues_badly_scaled_features(clf_data):
    X, y = clf_data
    Xbad = X * 10.0 ** np.arange(-2, 4)
    plain = RegularizedMLPClassifier(input_scaling=None, **FAST).fit(Xbad, y).score(Xbad, y)
    scaled = RegularizedMLPClassifier(input_scaling="robust", **FAST).fit(Xbad, y)
    assert scaled.score(Xbad, y) > plain + 0.05
    assert scaled.input_center_.shape == (6,) and np.all(scaled.input_scale_ > 0)


def test_robust_scaling_leaves_user_data_alone_and_works_behind_a_scaler(clf_data):
    X, y = clf_data
    X32 = X.astype(np.float32)
    before = X32.copy()
    clf = RegularizedMLPClassifier(input_scaling="robust", **FAST).fit(X32, y)
    clf.predict(X32)
    np.testing.assert_array_equal(X32, before)
    pipe = make_pipeline(StandardScaler(),
                         RegularizedMLPClassifier(input_scaling="robust", **FAST))
    assert pipe.fit(X, y).score(X, y) > 0.8


def test_target_scaling_is_equivariant_to_the_units_of_y(reg_data):
    X, y = reg_data
    a = RegularizedMLPRegressor(target_scaling="standard", **FAST).fit(X, y)
    b = RegularizedMLPRegressor(target_scaling="standard", **FAST).fit(X, 1e4 * y - 3e5)
    np.testing.assert_allclose(b.predict(X), 1e4 * a.predict(X) - 3e5, rtol=1e-5,
                               atol=1e-6 * 1e4 * np.abs(y).max())
    np.testing.assert_allclose(a.target_mean_, [y.mean()])
    np.testing.assert_allclose(a.target_scale_, [y.std()])


def test_target_scaling_fits_targets_in_large_units(reg_data):
    X, y = reg_data
    y = 1e3 * y + 5e4
    plain = RegularizedMLPRegressor(target_scaling=None, **FAST).fit(X, y).score(X, y)
    scaled = RegularizedMLPRegressor(target_scaling="standard", **FAST).fit(X, y)
    assert scaled.score(X, y) > 0.8 > plain


def test_target_scaling_multi_output(reg_data):
    X, y = reg_data
    Y = np.column_stack([y, -100 * y + 7])
    reg = RegularizedMLPRegressor(target_scaling="standard", **FAST).fit(X, Y)
    assert reg.predict(X).shape == Y.shape
    assert reg.target_mean_.shape == (2,)
    assert reg.score(X, Y) > 0.8


def test_search_with_scaling_is_invariant_to_units(reg_data):
    X, y = reg_data
    kw = dict(alphas=(1e-3, 1e-1), cv=3, hidden_layer_sizes=(16,), batch_size=32,
              learning_rate_init=0.01, max_iter=20, random_state=0, input_scaling="robust",
              target_scaling="standard")
    a = RegularizedMLPRegressorCV(**kw).fit(X, y)
    b = RegularizedMLPRegressorCV(**kw).fit(X * 1e3 - 7, 50 * y + 1e4)
    np.testing.assert_allclose(a.cv_results_["mean_test_score"],
                               b.cv_results_["mean_test_score"], atol=1e-4)
    for estimator in a.estimators_:
        assert (estimator.input_scaling, estimator.target_scaling) == ("robust", "standard")
    # the fold models' averaged predictions too, in the units of y
    np.testing.assert_allclose((b.predict(X * 1e3 - 7) - 1e4) / 50, a.predict(X),
                               atol=1e-3 * y.std())


def test_classifier_search_with_robust_scaling(clf_data):
    X, y = clf_data
    Xbad = X * 10.0 ** np.arange(-2, 4)
    kw = dict(alphas=(1e-3, 1e-1), cv=3, hidden_layer_sizes=(16,), batch_size=32,
              learning_rate_init=0.01, max_iter=20, random_state=0)
    plain = RegularizedMLPClassifierCV(input_scaling=None, **kw).fit(Xbad, y)
    scaled = RegularizedMLPClassifierCV(input_scaling="robust", **kw).fit(Xbad, y)
    assert scaled.best_score_ > plain.best_score_ + 0.05


def test_weighted_quantiles_count_a_weight_as_repeated_rows():
    from skreg._preprocessing import weighted_quantiles
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    w = rng.integers(0, 4, size=40)
    repeated = np.repeat(X, w, axis=0)
    qs = [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(weighted_quantiles(X, qs, w),
                                  weighted_quantiles(repeated, qs))
    np.testing.assert_array_equal(weighted_quantiles(repeated, qs),
                                  np.quantile(repeated, qs, axis=0, method="inverted_cdf"))


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_scaling_statistics_honour_sample_weight(Est, clf_data, reg_data):
    X, y = clf_data if Est is RegularizedMLPClassifier else reg_data
    rng = np.random.default_rng(1)
    w = rng.integers(0, 3, size=len(y))
    kw = dict(input_scaling="robust", **FAST)
    if Est is RegularizedMLPRegressor:
        kw["target_scaling"] = "standard"
    weighted = Est(**kw).fit(X, y, sample_weight=w)
    repeated = Est(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_array_equal(weighted.input_center_, repeated.input_center_)
    np.testing.assert_array_equal(weighted.input_scale_, repeated.input_scale_)
    if Est is RegularizedMLPRegressor:
        np.testing.assert_allclose(weighted.target_mean_, repeated.target_mean_)
        np.testing.assert_allclose(weighted.target_scale_, repeated.target_scale_)


def test_scale_inputs_is_what_the_network_sees_and_never_x_itself(clf_data):
    X, y = clf_data
    X32 = X.astype(np.float32)
    scaled = RegularizedMLPClassifier(**FAST).fit(X32, y)
    Z = scaled.scale_inputs(X32)
    np.testing.assert_allclose(Z, robust_scale(X32, scaled.input_center_, scaled.input_scale_))
    raw = RegularizedMLPClassifier(**{**FAST, **RAW}).fit(X32, y)
    Z = raw.scale_inputs(X32)
    assert Z is not X32 and not np.shares_memory(Z, X32)
    np.testing.assert_array_equal(Z, X32)


def _quantiles_by_definition(X, qs, w):
    """The inverted-CDF weighted quantiles, written out on whole columns."""
    order = np.argsort(X, axis=0, kind="stable")
    cum = np.cumsum(np.asarray(w, float)[order], axis=0)
    out = np.empty((len(qs), X.shape[1]), dtype=X.dtype)
    for i, q in enumerate(qs):
        hit = cum > 0 if q <= 0 else cum >= q * cum[-1] * (1 - 1e-12)
        out[i] = X[order[np.argmax(hit, axis=0), np.arange(X.shape[1])], np.arange(X.shape[1])]
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_quantiles_match_the_definition_with_ties_and_zero_weights(dtype, weighted):
    from skreg._preprocessing import weighted_quantiles
    rng = np.random.default_rng(3)
    qs = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
    for n in (1, 2, 7, 60, 301):
        # few distinct values (many ties), signed zeros, and continuous columns
        X = np.column_stack([rng.integers(-2, 3, n), rng.normal(size=n),
                             rng.choice([-0.0, 0.0, 1.0], n), np.full(n, 5.0)]).astype(dtype)
        w = (rng.choice([0.0, 0.0, 0.1, 0.5, 1.0, 2.0, 1 / 3], n) if weighted
             else np.ones(n))
        w[0] = max(w[0], 0.25)   # a positive total
        got = weighted_quantiles(X, qs, w if weighted else None)
        want = _quantiles_by_definition(X, qs, w)
        assert got.dtype == X.dtype
        # bit for bit: the signs of zeros too
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("weighted", [False, True])
def test_rows_gives_the_statistics_of_the_selected_rows(weighted):
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.normal(size=500), rng.integers(0, 4, 500),
                         rng.exponential(size=500)]).astype(np.float32)
    w = rng.choice([0.0, 0.5, 1.0, 3.0], 500) if weighted else None
    rows = rng.choice(500, 320, replace=True)            # repeats, any order
    sub_w = None if w is None else w[rows]
    for got, want in zip(robust_scaling_stats(X, w, rows=rows),
                         robust_scaling_stats(X[rows], sub_w)):
        assert got.dtype == want.dtype == X.dtype
        np.testing.assert_array_equal(got, want)
    mask = rng.random(500) < 0.6                          # a boolean mask selects rows
    for got, want in zip(robust_scaling_stats(X, w, rows=mask),
                         robust_scaling_stats(X[mask], None if w is None else w[mask])):
        np.testing.assert_array_equal(got, want)


def test_rows_follow_the_subsample_of_large_inputs(monkeypatch):
    import skreg._preprocessing as prep
    monkeypatch.setattr(prep, "_QUANTILE_ROWS", 50)     # subsample 50 of the rows used
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2))
    w = rng.integers(0, 3, 300).astype(float)
    rows = rng.permutation(300)[:120]
    pick = np.sort(np.random.default_rng(0).choice(120, 50, replace=False))
    for got, want in zip(prep.robust_scaling_stats(X, w, rows=rows),
                         prep.robust_scaling_stats(X[rows[pick]], w[rows[pick]])):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(prep.robust_scaling_stats(X[rows], w[rows]),
                         prep.robust_scaling_stats(X, w, rows=rows)):
        np.testing.assert_array_equal(got, want)


def test_target_stats_of_rows_and_weights():
    from skreg._preprocessing import target_scaling_stats
    rng = np.random.default_rng(6)
    Y = np.column_stack([rng.normal(3, 2, 200), np.full(200, 7.0)]).astype(np.float32)
    w = rng.integers(0, 3, 200).astype(float)
    rows = rng.choice(200, 150)
    mean, std = target_scaling_stats(Y, w, rows=rows)
    Y64, ww = Y[rows].astype(np.float64), w[rows]
    want_mean = (ww @ Y64) / ww.sum()
    want_std = np.sqrt((ww @ (Y64 - want_mean) ** 2) / ww.sum())
    np.testing.assert_allclose(mean, want_mean, rtol=1e-6)
    np.testing.assert_allclose(std[0], want_std[0], rtol=1e-6)
    assert std[1] == 1.0 and mean.dtype == std.dtype == np.float32   # constant target


def test_scaling_functions_never_modify_their_inputs():
    from skreg._preprocessing import target_scaling_stats, weighted_quantiles
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    X[::5] = -0.0
    Xf = np.asfortranarray(X)                            # any layout is read, not written
    w = rng.integers(0, 3, 400).astype(float)
    rows = rng.choice(400, 300)
    before, wbefore, rbefore = X.copy(), w.copy(), rows.copy()
    for A in (X, Xf):
        weighted_quantiles(A, [0.0, 0.5, 1.0])
        weighted_quantiles(A, [0.0, 0.5, 1.0], w, rows)
        center, scale = robust_scaling_stats(A, w, rows=rows)
        Z = robust_scale(A, center, scale)
        target_scaling_stats(A, w, rows=rows)
        assert not np.shares_memory(Z, A)
        np.testing.assert_array_equal(A, before)
        assert A.tobytes() == before.tobytes()           # signs of zeros included
    np.testing.assert_array_equal(w, wbefore)
    np.testing.assert_array_equal(rows, rbefore)
    np.testing.assert_array_equal(robust_scale(Xf, center, scale), robust_scale(X, center, scale))

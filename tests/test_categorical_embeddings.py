"""Learned embeddings of high-cardinality categorical columns.

The engine's tables: the hand-written pass equals autograd (one network and
a stack, shared and per-member rows), the tables train, and a row's code
picks its row. The estimators: a frame's columns with more than
``max_onehot_categories`` categories get a table, which learns a
category-level effect no numeric column carries, survives pickling, and is
inspectable (``embedding_sizes_``).
"""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor)
from skreg._engine import LOSSES, StackedMLP
from skreg._engine.backward import manual_step
from skreg._engine.model import plr_forward
from skreg._engine.regularizers import ElasticNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TABLES = ((6, 3), (4, 2))


def _inputs(C, n, n_dense, shared, gen):
    shape = (n,) if shared else (C, n)
    dense = torch.randn(*shape, n_dense, generator=gen, dtype=torch.float64)
    codes = [torch.randint(0, k, (*shape, 1), generator=gen).double() for k, _ in TABLES]
    return torch.cat([dense, *codes], -1)


@pytest.mark.parametrize("C,shared", [(1, True), (3, True), (3, False)])
@pytest.mark.parametrize("activation", ["relu", "tanh", "identity"])
@pytest.mark.parametrize("plr", [None, ((0, 2), 3, 2, 0.5)])
@pytest.mark.parametrize("scale_layer", [False, True])
def test_manual_pass_with_tables_equals_autograd(C, shared, activation, plr, scale_layer):
    """One SGD step (L2 and L1 on weights, tables, PLR parameters and the
    input scale, row weights): the hand-written gradients of the tables and
    layers, the PLR embedding's and the learned input scale's are autograd's."""
    gen = torch.Generator().manual_seed(0)
    n, n_dense, hidden, n_out = 9, 3, (5,), 2
    n_plr = len(plr[0]) * plr[2] if plr else 0
    sizes = (n_dense + n_plr + sum(d for _, d in TABLES), *hidden, n_out)
    model = StackedMLP(sizes, activation, n_members=C, tables=TABLES, plr=plr,
                       scale_layer=scale_layer).double()
    model.reset_parameters(list(range(C)))
    if scale_layer:
        with torch.no_grad():  # a scale away from 1, so that dW_1 = s dW_1' is tested
            u = model.coef[:, model.scale_slice]
            u.copy_(0.1 * torch.randn(u.shape, generator=gen, dtype=torch.float64))
    reference = StackedMLP(sizes, activation, n_members=C, tables=TABLES, plr=plr,
                           scale_layer=scale_layer).double()
    reference.load_state_dict(model.state_dict())
    X = _inputs(C, n, n_dense, shared, gen)
    loss = LOSSES["squared_error"](n_out)
    target = torch.randn(n, n_out, generator=gen, dtype=torch.float64)
    w = torch.rand(C, n, generator=gen, dtype=torch.float64) + 0.5
    if C == 1:
        w = w[0]
    scale = 1.0 / float(w.sum()) if C == 1 else (1.0 / w.sum(1)).view(-1, 1, 1)
    l1, l2 = np.linspace(0.0, 0.2, C), np.linspace(0.3, 0.1, C)
    model.coef.grad = torch.zeros_like(model.coef)
    model.intercept.grad = torch.zeros_like(model.intercept)
    lr = 0.5

    def sgd():
        with torch.no_grad():
            model.coef -= lr * model.coef.grad
            model.intercept -= lr * model.intercept.grad

    step = manual_step(model, loss, [ElasticNet(l1, l2, l1_method="subgradient")], sgd,
                       None, 0.0, None)
    with torch.no_grad():
        step(X, target, w, scale, torch.zeros(C, dtype=torch.float64))

    out = reference(X)
    rows = loss.value(out, target)
    Wr = reference.coef
    penalty = torch.as_tensor(l1) * (torch.sign(Wr.detach()) * Wr).sum(1) + \
        0.5 * torch.as_tensor(l2) * (Wr * Wr).sum(1)
    flat_scale = torch.as_tensor(scale, dtype=torch.float64).reshape(-1)
    objective = (((rows * w).sum(-1) + penalty) * flat_scale).sum()
    objective.backward()
    assert reference.coef.grad[:, model.n_layer_weights:].abs().sum() > 0
    with torch.no_grad():
        torch.testing.assert_close(model.coef, reference.coef - lr * reference.coef.grad,
                                   rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(model.intercept,
                                   reference.intercept - lr * reference.intercept.grad,
                                   rtol=1e-10, atol=1e-12)


def test_a_code_picks_its_table_row():
    model = StackedMLP((2 + 3, 4, 1), "relu", tables=((5, 3),)).double()
    model.reset_parameters([0])
    X = torch.tensor([[0.5, -1.0, 4.0], [0.0, 2.0, 1.0]], dtype=torch.float64)
    first = model.embed_codes(X)
    E = model.table_views()[0]
    torch.testing.assert_close(first[:, :2], X[:, :2])
    torch.testing.assert_close(first[0, 2:], E[4])
    torch.testing.assert_close(first[1, 2:], E[1])


# ------------------------------------------------------------ the estimators
def _shops(n=1500, n_shops=60, seed=0):
    """A target driven by a 60-level shop column no numeric column reveals."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0.0, 1.5, n_shops)
    shop = rng.integers(0, n_shops, n)
    x = rng.normal(size=n)
    y = effect[shop] + 0.5 * x + rng.normal(0.0, 0.3, n)
    X = pd.DataFrame({"shop": pd.Categorical([f"s{s}" for s in shop]), "x": x})
    return X, y


def test_high_cardinality_column_gets_a_learned_table():
    X, y = _shops()
    # no numeric embedding: the first layer's rows are x and the table's entries
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(32,), max_iter=60, random_state=0,
                                  numeric_embedding=None)
    reg.fit(X, y)
    assert reg.encoder_.output_kinds_.tolist() == ["numeric", "embedding"]
    assert reg.embedding_sizes_ == {"shop": 8}
    n_codes = reg.encoder_.embedding_cardinalities_[0]
    assert reg.embeddings_["shop"].shape == (n_codes, 8)
    # the network's first layer sees x and the 8 table entries
    assert reg.coefs_[0].shape[0] == 1 + 8
    assert reg.score(X, y) > 0.85
    # the same frame, every category one-hot: the same kind of fit
    onehot = RegularizedMLPRegressor(hidden_layer_sizes=(32,), max_iter=60, random_state=0,
                                     max_onehot_categories=None,
                                     numeric_embedding=None).fit(X, y)
    assert onehot.coefs_[0].shape[0] == 1 + 60
    assert reg.score(X, y) > onehot.score(X, y) - 0.05


def test_tables_learn_and_the_penalty_shrinks_them():
    X, y = _shops()
    fits = {a: RegularizedMLPRegressor(hidden_layer_sizes=(32,), alpha=a, max_iter=40,
                                       random_state=0).fit(X, y)
            for a in (1e-4, 30.0)}
    start = RegularizedMLPRegressor(hidden_layer_sizes=(32,), max_iter=1,
                                    random_state=0).fit(X, y)
    E0 = start.embeddings_["shop"]
    E = fits[1e-4].embeddings_["shop"]
    assert np.abs(E - E0).max() > 0.05  # trained, not left at initialisation
    assert np.linalg.norm(fits[30.0].embeddings_["shop"]) < 0.85 * np.linalg.norm(E)


def test_unseen_and_missing_categories_at_predict():
    X, y = _shops()
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    clf.fit(X, y > 0)
    new = pd.DataFrame({"shop": pd.Categorical(["never-seen", None, "s3"]),
                        "x": [0.0, 0.0, 0.0]})
    proba = clf.predict_proba(new)
    assert proba.shape == (3, 2) and np.isfinite(proba).all()
    # an unseen category takes the 'unseen' row: not any known shop's row
    assert not np.allclose(proba[0], proba[2])


def test_saved_model_with_tables_predicts_the_same():
    """pickle and skreg.io (skops, no untrusted type) keep the tables."""
    X, y = _shops(n=400)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    clf.fit(X, y > 0)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    pytest.importorskip("skops")
    import skreg.io

    blob = skreg.io.dumps(clf)
    assert skreg.io.get_untrusted_types(data=blob) == []
    loaded = skreg.io.loads(blob)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.embeddings_["shop"], clf.embeddings_["shop"])


def test_ensemble_and_early_stopping_with_tables():
    X, y = _shops(n=600)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0,
                                   ensemble_size=3, early_stopping=True)
    clf.fit(X, y > 0)
    assert clf.embeddings_["shop"].shape[0] == 3  # one table per member
    assert clf.score(X, y > 0) > 0.7


def test_input_noise_leaves_codes_and_mixup_is_refused():
    X, y = _shops(n=300)
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, input_noise=0.5,
                                  random_state=0).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()
    with pytest.raises(ValueError, match="mixup"):
        RegularizedMLPRegressor(max_iter=2, mixup=0.2).fit(X, y)


def test_cv_estimator_trains_tables_in_its_folds():
    """The fold models of a search on a raw frame embed the shop column, as
    the refit does, and score above the same search with one-hot columns
    (30 shops of about 20 rows each in a fold)."""
    X, y = _shops(n=1200, n_shops=30)
    scores = {}
    for max_onehot in (16, None):
        search = RegularizedMLPClassifierCV(alphas=[1e-4, 1.0], dropouts=[0.0], cv=2,
                                            hidden_layer_sizes=[(16,)], max_iter=30,
                                            random_state=0, refit=True,
                                            max_onehot_categories=max_onehot)
        search.fit(X, y > 0)
        scores[max_onehot] = search.best_score_
        assert search.feature_names_in_.tolist() == ["shop", "x"]
        assert search.score(X, y > 0) > 0.8
        sizes = {} if max_onehot is None else {"shop": 8}
        assert all(e.embedding_sizes_ == sizes for e in search.estimators_)
    assert scores[16] > scores[None] + 0.05
    assert scores[16] > 0.65


def test_too_many_categories_to_one_hot_is_refused():
    """A 1,200-level column (5 rows each) cannot be one-hot encoded: the error
    names it and max_onehot_categories; with the default it is embedded."""
    n = 6000
    X = pd.DataFrame({"user": [f"u{i % 1200}" for i in range(n)],
                      "x": np.random.default_rng(0).normal(size=n)})
    y = np.arange(n) % 2
    for Est in (RegularizedMLPClassifier, RegularizedMLPClassifierCV):
        with pytest.raises(ValueError, match="Column 'user' has 1200 categories .*too many "
                                             "to one-hot encode .*max_onehot_categories=None"):
            Est(max_onehot_categories=None, max_iter=1).fit(X, y)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, y)
    assert clf.embeddings_["user"].shape == (1202, 8)


# -------------------------------------------------- learned periodic (PLR)
def _checkerboard(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 2))
    return X, (np.sin(3 * X[:, 0]) * np.cos(3 * X[:, 1]) > 0).astype(int)


def test_plr_embedding_learns_a_sharp_boundary():
    """A periodic class boundary in two features: the plain network stays
    near chance in 150 epochs, the PLR one learns it, and its frequencies
    moved from their initial values."""
    X, y = _checkerboard()
    X_test, y_test = _checkerboard(seed=1)
    plain = RegularizedMLPClassifier(max_iter=150, random_state=0,
                                     numeric_embedding=None).fit(X, y)
    plr = RegularizedMLPClassifier(max_iter=150, random_state=0,
                                   numeric_embedding="plr").fit(X, y)
    assert plr.score(X_test, y_test) > plain.score(X_test, y_test) + 0.15
    model = plr.module_
    assert model.plr[0] == (0, 1) and plr.coefs_[0].shape == (2 + 2 * 4, 100)
    start = RegularizedMLPClassifier(max_iter=1, random_state=0,
                                     numeric_embedding="plr").fit(X, y).module_
    c, c0 = model.plr_views()[0], start.plr_views()[0]
    assert (c - c0).abs().max() > 0.01
    assert plr.feature_importances_.shape == (2,)
    again = pickle.loads(pickle.dumps(plr))
    np.testing.assert_array_equal(again.predict_proba(X_test), plr.predict_proba(X_test))


@pytest.mark.parametrize("C,shared", [(1, True), (3, True), (3, False)])
@pytest.mark.parametrize("columns", [(0, 1, 2), (2, 0)])
@pytest.mark.parametrize("tables", [(), TABLES])
@pytest.mark.parametrize("scale_layer", [False, True])
@pytest.mark.parametrize("dropout", [None, "masks", "folded"])
def test_plr_gradients_are_autograds(C, shared, columns, tables, scale_layer, dropout,
                                     monkeypatch):
    """The hand-written PLR backward (frequencies, maps, biases) gives the
    gradients autograd gives through :func:`plr_forward`, for one network and
    a stack (shared or own rows), with consecutive or scattered PLR columns,
    embedding tables beside it, the learned input scale and dropout (per-unit
    masks, or the factor folded into a product), without autograd in the
    step."""
    gen = torch.Generator().manual_seed(1)
    n, n_dense, hidden, n_out, (k, d) = 11, 3, (6, 4), 2, (3, 2)
    plr = (columns, k, d, 0.7)
    sizes = (n_dense + len(columns) * d + sum(w for _, w in tables), *hidden, n_out)
    model = StackedMLP(sizes, "relu", n_members=C, tables=tables, plr=plr,
                       scale_layer=scale_layer).double()
    model.reset_parameters(list(range(C)))
    if scale_layer:
        with torch.no_grad():
            u = model.coef[:, model.scale_slice]
            u.copy_(0.1 * torch.randn(u.shape, generator=gen, dtype=torch.float64))
    reference = StackedMLP(sizes, "relu", n_members=C, tables=tables, plr=plr,
                           scale_layer=scale_layer).double()
    reference.load_state_dict(model.state_dict())
    shape = (n,) if shared else (C, n)
    X = torch.cat([2 * torch.randn(*shape, n_dense, generator=gen, dtype=torch.float64)]
                  + [torch.randint(0, m, (*shape, 1), generator=gen).double()
                     for m, _ in tables], -1)
    loss = LOSSES["squared_error"](n_out)
    target = torch.randn(n, n_out, generator=gen, dtype=torch.float64)
    w = torch.rand(C, n, generator=gen, dtype=torch.float64) + 0.5
    scale = (1.0 / w.sum(1)).view(-1, 1, 1)
    if C == 1:
        w, scale = w[0], 1.0 / float(w[0].sum())
    masks, factors = [None, None], None
    if dropout:
        lead = (n,) if C == 1 else (C, n)
        masks = [(torch.rand(*lead, h, generator=gen, dtype=torch.float64) > 0.3).double()
                 / 0.7 for h in hidden]
        factors = [1 / 0.7, 1 / 0.7] if dropout == "folded" else None
    model.coef.grad = torch.zeros_like(model.coef)
    model.intercept.grad = torch.zeros_like(model.intercept)

    def no_autograd(*args, **kwargs):
        raise AssertionError("autograd ran inside the hand-written step")

    step = manual_step(model, loss, [], lambda: None, (lambda xb: masks) if dropout else None,
                       0.0, None, dropout_factors=factors)
    with monkeypatch.context() as patch, torch.no_grad():
        patch.setattr(torch.autograd, "backward", no_autograd)
        step(X, target, w, scale, torch.zeros(C, dtype=torch.float64))

    out = reference(X, keep_masks=masks if dropout else None)
    weighted = (loss.value(out, target) * w).sum(-1)
    (weighted * torch.as_tensor(scale, dtype=torch.float64).reshape(-1)).sum().backward()
    block = model.plr_slice
    # frequencies, maps and biases all have gradients (a few ReLU units may be off)
    assert all(g.abs().max() > 0 for g in reference.plr_views(reference.coef.grad))
    assert (reference.coef.grad[:, block] != 0).double().mean() > 0.7
    torch.testing.assert_close(model.coef.grad[:, block], reference.coef.grad[:, block],
                               rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(model.coef.grad, reference.coef.grad, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(model.intercept.grad, reference.intercept.grad,
                               rtol=1e-10, atol=1e-13)


def test_plr_forward_layout_and_cache():
    """plr_forward computes ``ReLU(W_j^T [sin(2 pi c_j x_j), cos(2 pi c_j x_j)] + b_j)``
    per input and row, and its cache holds what the backward pass reads."""
    gen = torch.Generator().manual_seed(0)
    n, F, k, d = 5, 3, 2, 4
    x = torch.randn(n, F, generator=gen, dtype=torch.float64)
    c = torch.randn(F, k, generator=gen, dtype=torch.float64)
    W = torch.randn(F, 2 * k, d, generator=gen, dtype=torch.float64)
    b = torch.randn(F, d, generator=gen, dtype=torch.float64)
    cache = {}
    e = plr_forward(x, c, W, b, cache=cache)
    assert e.shape == (n, F * d)
    for i in range(n):
        for j in range(F):
            p = 2 * math.pi * c[j] * x[i, j]
            expected = torch.relu(torch.cat([torch.sin(p), torch.cos(p)]) @ W[j] + b[j])
            torch.testing.assert_close(e[i, j * d:(j + 1) * d], expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(cache["u"], 2 * math.pi * x.T, rtol=0, atol=0)
    torch.testing.assert_close(cache["e"].transpose(0, 1), e, rtol=0, atol=0)
    torch.testing.assert_close(cache["z"][:, :k], cache["sin"], rtol=0, atol=0)
    # a stack: the members' parameters side by side, the rows shared
    stacked = plr_forward(x, *(torch.stack([t, 2 * t]) for t in (c, W, b)))
    torch.testing.assert_close(stacked[0], e, rtol=0, atol=0)
    torch.testing.assert_close(stacked[1], plr_forward(x, 2 * c, 2 * W, 2 * b), rtol=0, atol=0)


def test_plr_with_tables_ensembles_and_binary_columns():
    """PLR next to an embedded categorical column and a binary column (passed
    through), in an ensemble of 2."""
    X, y = _shops(n=600)
    X = X.assign(flag=(X["x"] > 0).astype(float))
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0,
                                  numeric_embedding="plr", ensemble_size=2).fit(X, y)
    assert reg.module_.plr[0] == (0,)  # 'x' only: 'flag' is binary
    assert reg.coefs_[0].shape == (2, 2 + 4 + 8, 8)
    assert np.isfinite(reg.predict(X)).all()
    assert reg.feature_importances_.shape == (3,)


def test_cv_estimator_searches_the_plr_embedding():
    """numeric_embeddings=[None, 'plr'] is a grid axis raced in two brackets:
    on the periodic boundary the PLR configurations win, the fitted fold models
    have the embedding, and each bracket keeps a finalist."""
    X, y = _checkerboard(n=1500)
    search = RegularizedMLPClassifierCV(numeric_embeddings=[None, "plr"],
                                        alphas=[1e-4, 0.3], dropouts=[0.0], cv=3,
                                        max_iter=200, random_state=0).fit(X, y)
    results = search.cv_results_
    plr = np.asarray([p == "plr" for p in results["param_numeric_embedding"]])
    assert search.best_params_["numeric_embedding"] == "plr"
    assert all(e.numeric_embedding == "plr" and e._plr for e in search.estimators_)
    assert results["mean_test_score"][plr].max() > results["mean_test_score"][~plr].max() + 0.1
    finalists = results["iter"] == results["iter"].max()
    assert finalists[plr].any() and finalists[~plr].any()
    with pytest.raises(ValueError, match="numeric_embeddings must be"):
        RegularizedMLPClassifierCV(numeric_embeddings=["periodic"]).fit(X, y)

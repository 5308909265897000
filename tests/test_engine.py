"""The engine's hand-written backward pass and fused optimizer step agree
with autograd and ``torch.optim`` to rounding error."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._torch.engine import DropoutMasks
from skreg._torch.network import ACTIVATIONS
from skreg._torch.optim import FusedAdamStep, step_function


@pytest.mark.parametrize("cls", [torch.optim.Adam, torch.optim.AdamW])
def test_fused_step_equals_optimizer_step(cls):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(50)), torch.nn.Parameter(torch.randn(7))]
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    groups = lambda ps: [{"params": [ps[0]], "weight_decay": 0.1},  # noqa: E731
                         {"params": [ps[1]], "weight_decay": 0.0}]
    reference = cls(groups(params), lr=0.01, fused=True)
    fast_opt = cls(groups(twins), lr=0.01, fused=True)
    for p, q in zip(params, twins):
        p.grad, q.grad = torch.zeros_like(p), torch.zeros_like(q)
    fast = step_function(fast_opt)
    assert isinstance(fast, FusedAdamStep)
    for i in range(5):
        for p, q in zip(params, twins):
            g = torch.randn_like(p)
            p.grad.copy_(g)
            q.grad.copy_(g)
        if i == 3:  # a scheduler changing lr is honoured
            for opt in (reference, fast_opt):
                opt.param_groups[0]["lr"] = 0.003
        reference.step()
        fast()
    for p, q in zip(params, twins):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7)
    assert fast_opt.state[twins[0]]["step"].item() == 5


def test_other_optimizers_use_their_own_step():
    p = torch.nn.Parameter(torch.randn(3))
    opt = torch.optim.SGD([p], lr=0.1)
    assert step_function(opt) == opt.step


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_manual_gradient_matches_autograd(activation, Est):
    """One full-batch SGD step equals autograd's gradient of the objective."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = rng.integers(0, 3, size=30) if Est is RegularizedMLPClassifier else rng.normal(size=30)
    w = rng.uniform(0.5, 2.0, size=30)
    est = Est(hidden_layer_sizes=(5, 3), activation=activation, solver="sgd",
              momentum=0.0, learning_rate_init=1.0, batch_size=30, shuffle=False,
              penalty="elasticnet", alpha=0.3, l1_ratio=0.4, random_state=0, l1_method="subgradient",
              label_smoothing=0.1, input_scaling=None) if Est is RegularizedMLPClassifier else Est(
              hidden_layer_sizes=(5, 3), activation=activation, solver="sgd",
              momentum=0.0, learning_rate_init=1.0, batch_size=30, shuffle=False,
              penalty="elasticnet", alpha=0.3, l1_ratio=0.4, random_state=0,
              l1_method="subgradient", input_scaling=None, target_scaling=None)
    est.partial_fit(X, y, sample_weight=w, **({"classes": [0, 1, 2]}
                                               if Est is RegularizedMLPClassifier else {}))
    after = [p.detach().clone() for p in est.module_.parameters()]
    # rebuild the initial network and differentiate the objective with autograd
    fresh = Est(**est.get_params())
    if Est is RegularizedMLPClassifier:
        fresh.classes_ = np.array([0, 1, 2])
        fresh._encoder = est._encoder
        targets, _ = fresh._validate_targets(y, True, True, [0, 1, 2])
    else:
        fresh._n_targets = 1
        targets = y.reshape(-1, 1)
    net = fresh._build_net(4, 30, "cpu", torch.float64)
    module = net.module_.train()
    Xt, Tt, Wt = (torch.as_tensor(a, dtype=torch.float64) for a in (X, targets, w))
    losses = net.criterion_(module(Xt), Tt)
    coefs = module.coef_flat
    penalty = 0.3 * (0.4 * coefs.abs().sum() + 0.6 / 2 * coefs.pow(2).sum())
    objective = (losses @ Wt + penalty) / Wt.sum()
    objective.backward()
    expected = [p.detach() - p.grad for p in module.parameters()]
    for got, want in zip(after, expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_dropout_masks_drop_the_requested_fraction(p):
    masks = DropoutMasks([1000, 7, 500], [round(p * 65536), 0, round(0.2 * 65536)], seed=0)
    keep, none, other = masks.draw(300, torch.float32, torch.device("cpu"))
    # a draw's masks are valid until the next draw, which reuses their buffer
    keep, other = keep.clone(), other.clone()
    assert none is None
    assert keep.shape == (300, 1000) and keep.dtype == torch.float32
    assert set(keep.unique().tolist()) == {0.0, 1.0}
    assert abs(1 - keep.mean().item() - p) < 0.005
    assert abs(1 - other.mean().item() - 0.2) < 0.005
    # independent across units and draws
    again = masks.draw(300, torch.float32, torch.device("cpu"))[0]
    assert abs(((1 - keep) * (1 - again)).mean().item() - p * p) < 0.005


@pytest.mark.parametrize("p", [0.001, 0.1, 200 / 256])
def test_dropout_masks_are_exact_to_a_16_bit_threshold(p):
    """Units whose high byte ties with the threshold's draw a low byte: the
    drop rate is t / 2**16 even when the threshold t is not a multiple of 256."""
    t = round(p * 65536)
    masks = DropoutMasks([20000], [t], seed=1)
    dropped = np.concatenate([
        1 - masks.draw(500, torch.float64, torch.device("cpu"))[0].numpy().ravel()
        for _ in range(4)])
    std = np.sqrt(t / 65536 * (1 - t / 65536) / dropped.size)
    assert abs(dropped.mean() - t / 65536) < 4 * std


def test_dropout_keeps_the_mean_activation():
    """Inverted dropout: training-mode output averages to the eval output."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    est = RegularizedMLPRegressor(hidden_layer_sizes=(64,), dropout=0.4, max_iter=3,
                                  random_state=0).fit(X, X[:, 0])
    module = est.module_
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        deterministic = module.eval()(Xt)
        module.train()
        sampled = torch.stack([module(Xt) for _ in range(400)]).mean(0)
    torch.testing.assert_close(sampled, deterministic, atol=0.05, rtol=0.05)


@pytest.fixture
def drawn(monkeypatch):
    """The list of every dropout draw's masks (cloned), in the order drawn."""
    record = []
    draw = DropoutMasks.draw

    def recording_draw(self, *args, **kwargs):
        masks = draw(self, *args, **kwargs)
        record.append([m.clone() for m in masks])
        return masks

    monkeypatch.setattr(DropoutMasks, "draw", recording_draw)
    return record


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_manual_gradient_with_dropout_matches_autograd(activation, drawn):
    """SGD steps with dropout on every hidden layer, over batches of 12, 12
    and 6 rows, equal autograd's steps with the same masks: the dropout
    factors the hand-written pass folds into its products are exact."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    y = rng.normal(size=30)
    # p = 0.25 is exact in 16 bits: c = 1 / (1 - p) in both passes
    est = RegularizedMLPRegressor(
        hidden_layer_sizes=(6, 5, 4), activation=activation, dropout=0.25,
        solver="sgd", momentum=0.0, learning_rate_init=0.5, batch_size=12,
        shuffle=False, penalty=None, random_state=0, input_scaling=None,
        target_scaling=None)
    est.partial_fit(X, y)
    assert len(drawn) == 1
    after = [p.detach().clone() for p in est.module_.parameters()]

    fresh = RegularizedMLPRegressor(**est.get_params())
    fresh._n_targets = 1
    module = fresh._build_net(4, 30, "cpu", torch.float64).module_.train()
    Xt = torch.as_tensor(X)
    Tt = torch.as_tensor(y).reshape(-1, 1)
    masks = [m.to(torch.float64) for m in drawn[0]]
    for start in (0, 12, 24):
        stop = min(start + 12, 30)
        keeps = [m[start:stop] for m in masks]
        out = module(Xt[start:stop], keep_masks=keeps)
        loss = (0.5 * (out - Tt[start:stop]) ** 2).sum() / (stop - start)
        module.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in module.parameters():
                p -= 0.5 * p.grad
    for got, want in zip(after, module.parameters()):
        torch.testing.assert_close(got, want.detach(), rtol=1e-6, atol=1e-6)
    # the masks did drop units
    assert all(0 < (m[:30] == 0).float().mean() < 0.5 for m in masks)


def test_training_flushes_subnormals_and_restores_the_mode(monkeypatch):
    """Fits run with subnormal floats flushed to zero; the thread's mode is
    restored afterwards, also when training raises."""
    from skreg._torch.engine import DivergenceError, TabularNet
    from skreg._torch.fpenv import denormals_are_zero, denormals_flushed, flush_denormals

    if denormals_flushed() or denormals_are_zero():
        pytest.skip("this process already runs with subnormals flushed")
    with flush_denormals("cpu") as flushed:
        if not flushed:
            pytest.skip("torch cannot set the flushing mode on this CPU")
        assert denormals_flushed() and denormals_are_zero()
        with flush_denormals("cpu"):       # nested: the outer mode is kept
            assert denormals_flushed()
        assert denormals_flushed()
    assert not denormals_flushed() and not denormals_are_zero()
    with flush_denormals("meta") as flushed:   # other devices: unchanged
        assert not flushed and not denormals_flushed()

    seen = []
    original = TabularNet._fit_epochs

    def recording(self, *args, **kwargs):
        seen.append(denormals_flushed())
        return original(self, *args, **kwargs)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    monkeypatch.setattr(TabularNet, "_fit_epochs", recording)
    RegularizedMLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, X[:, 0])
    with pytest.raises(DivergenceError):
        RegularizedMLPRegressor(hidden_layer_sizes=(4,), max_iter=5, solver="sgd",
                                learning_rate_init=1e30, input_scaling=None,
                                target_scaling=None).fit(X * 1e10, X[:, 0] * 1e30)
    assert seen == [True, True]
    assert not denormals_flushed()


def test_flushing_does_not_leak_to_torch_worker_threads():
    """In a fresh process, whose intra-op threads start during the first fit,
    parallel kernels after the fit still produce subnormals."""
    code = textwrap.dedent("""
        import numpy as np, torch
        from skreg import RegularizedMLPClassifier
        X = np.random.default_rng(0).normal(size=(500, 8))
        RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=1).fit(X, X[:, 0] > 0)
        x = torch.full((1 << 21,), 2e-38).mul_(0.25)   # subnormal results
        print(torch.get_num_threads(), float((x == 0).double().mean()))
    """)
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True,
                         capture_output=True, text=True).stdout.split()
    threads, flushed = int(out[0]), float(out[1])
    assert flushed == 0.0, f"{flushed:.0%} of a parallel kernel's results flushed ({threads} threads)"


@pytest.mark.parametrize("weighted", [False, True])
def test_fast_fit_equals_a_plain_autograd_loop(drawn, weighted):
    """Three epochs of the fast path (hand-written pass, fused Adam without
    its Python wrapper, folded dropout factors, per-batch mask chunks, the
    proximal L1 step) equal a loop written plainly: autograd, torch.optim.Adam
    and the documented soft-threshold at Adam's step size, on the same
    shuffles and masks, including a short last batch, with and without
    sample weights."""
    rng = np.random.default_rng(3)
    n, batch, epochs, lr, alpha, l1_ratio, eps_ls = 50, 16, 3, 0.01, 0.05, 0.5, 0.1
    X = rng.normal(size=(n, 5))
    y = rng.integers(0, 3, size=n)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else np.ones(n)
    est = RegularizedMLPClassifier(
        hidden_layer_sizes=(8, 6), dropout=0.25, penalty="elasticnet", alpha=alpha,
        l1_ratio=l1_ratio, label_smoothing=eps_ls, learning_rate_init=lr,
        batch_size=batch, max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
        random_state=0, input_scaling=None).fit(
            X, y, sample_weight=w if weighted else None)
    assert est.n_iter_ == epochs and len(drawn) == 1

    fresh = RegularizedMLPClassifier(**est.get_params())
    fresh.classes_ = est.classes_
    fresh._encoder = est._encoder
    targets, _ = fresh._validate_targets(y, True, True, [0, 1, 2])
    net = fresh._build_net(5, n, "cpu", torch.float64)
    module = net.module_.train()
    coef, intercept = module.coef_flat, module.intercept_flat
    opt = torch.optim.Adam([{"params": [coef]}, {"params": [intercept]}], lr=lr)
    generator = torch.Generator().manual_seed(est.net_.seed)
    Xt, Tt, Wt = torch.as_tensor(X), torch.as_tensor(targets), torch.as_tensor(w)
    masks = [m.to(torch.float64) for m in drawn[0]]
    chunk = 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            rows = len(idx)
            keeps = [m[chunk * batch: chunk * batch + rows] for m in masks]
            chunk += 1
            losses = net.criterion_(module(Xt[idx], keep_masks=keeps), Tt[idx])
            batch_weight = Wt[idx].sum()            # S_B
            objective = (losses @ Wt[idx]
                         + alpha * (1 - l1_ratio) / 2 * coef.pow(2).sum()) / batch_weight
            opt.zero_grad()
            objective.backward()
            opt.step()
            with torch.no_grad():   # w <- sign(w) max(|w| - l1 eta / S_B, 0)
                state = opt.state[coef]
                root = np.sqrt(1 - 0.999 ** state["step"].item())
                step_size = lr * root / (state["exp_avg_sq"].sqrt() + 1e-8 * root)
                threshold = alpha * l1_ratio * step_size / batch_weight
                coef.copy_(coef.sign() * (coef.abs() - threshold).clamp_min(0))
    torch.testing.assert_close(est.module_.coef_flat.detach(), coef.detach(),
                               rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(est.module_.intercept_flat.detach(), intercept.detach(),
                               rtol=1e-9, atol=1e-12)
    assert (coef == 0).any()   # the proximal step zeroed weights


def test_a_short_fit_is_the_start_of_a_longer_one():
    """Shuffles and dropout masks do not depend on max_iter: the first
    epochs of a longer fit with the same seed are the shorter fit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X[:, 0] > 0).astype(int)
    kw = dict(hidden_layer_sizes=(7,), dropout=0.3, batch_size=10, random_state=0,
              tol=0.0, n_iter_no_change=100)
    short = RegularizedMLPClassifier(max_iter=2, **kw).fit(X, y)
    long = RegularizedMLPClassifier(max_iter=6, **kw).fit(X, y)
    assert short.loss_curve_ == long.loss_curve_[:2]
    assert long.loss_curve_[2] != long.loss_curve_[1]

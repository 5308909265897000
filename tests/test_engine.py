"""The engine's hand-written backward pass and fused optimizer step agree
with autograd and ``torch.optim`` to rounding error, for one network; the
stacked case is in ``test_stack.py``."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from skreg import DivergenceError, RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._engine import ACTIVATIONS, DropoutMasks, Trainer
from skreg._engine.noise import mask_source
from skreg._engine.optim import FusedAdamStep, step_function


@pytest.mark.parametrize("decay", [0.1, 0.0])
@pytest.mark.parametrize("cls", [torch.optim.Adam, torch.optim.AdamW])
def test_fused_step_equals_optimizer_step(cls, decay):
    """The fused step equals torch's, its groups stepped apart (different
    weight decays) or by one kernel call (equal settings)."""
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(50)), torch.nn.Parameter(torch.randn(7))]
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    groups = lambda ps: [{"params": [ps[0]], "weight_decay": decay},  # noqa: E731
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
    assert fast_opt.state[twins[1]]["step"].item() == 5


def test_other_optimizers_use_their_own_step():
    p = torch.nn.Parameter(torch.randn(3))
    opt = torch.optim.SGD([p], lr=0.1)
    assert step_function(opt) == opt.step


def _initial_model(est, n_features, n_outputs, batch):
    """The network a fit of ``est`` starts from (same random_state)."""
    config = est._training_config(n_features, n_outputs, batch, "cpu", torch.float64)
    return Trainer(config).model.train()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_manual_gradient_matches_autograd(activation, Est):
    """One full-batch SGD step equals autograd's gradient of the objective."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    classifier = Est is RegularizedMLPClassifier
    y = rng.integers(0, 3, size=30) if classifier else rng.normal(size=30)
    w = rng.uniform(0.5, 2.0, size=30)
    kw = dict(hidden_layer_sizes=(5, 3), activation=activation, solver="sgd",
              momentum=0.0, learning_rate_init=1.0, batch_size=30, shuffle=False,
              penalty="elasticnet", alpha=0.3, l1_ratio=0.4, random_state=0,
              l1_method="subgradient", input_scaling=None)
    est = Est(numeric_embedding=None,
              **kw, **({"label_smoothing": 0.1} if classifier else {"target_scaling": None}))
    est.partial_fit(X, y, sample_weight=w, **({"classes": [0, 1, 2]} if classifier else {}))
    after = [p.detach().clone() for p in est.module_.parameters()]
    # rebuild the initial network and differentiate the objective with autograd
    fresh = Est(**est.get_params())
    fresh.classes_, fresh._n_targets = np.arange(3), 1
    module = _initial_model(fresh, 4, 3 if classifier else 1, 30)
    loss = est._trainer.config.loss
    Xt, Wt = torch.as_tensor(X), torch.as_tensor(w)
    Tt = (loss.targets(torch.as_tensor(y), torch.float64, 0.1) if classifier
          else torch.as_tensor(y).reshape(-1, 1))
    losses = loss.value(module(Xt), Tt)
    coefs = module.coef
    penalty = 0.3 * (0.4 * coefs.abs().sum() + 0.6 / 2 * coefs.pow(2).sum())
    objective = (losses @ Wt + penalty) / Wt.sum()
    objective.backward()
    expected = [p.detach() - p.grad for p in module.parameters()]
    for got, want in zip(after, expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_dropout_masks_drop_the_requested_fraction(p):
    masks = DropoutMasks([1000, 7, 500], [[p, 0.0, 0.2]], seeds=0)
    keep, none, other = masks.draw(300, torch.float32, torch.device("cpu"))
    # a draw's masks are valid until the next draw, which reuses their buffer
    keep, other = keep.clone(), other.clone()
    assert none is None
    assert keep.shape == (300, 1000) and keep.dtype == torch.float32
    # kept units carry the inverted-dropout factor 1 / (1 - p) (to 16 bits)
    factor = 65536 / (65536 - round(p * 65536))
    values = keep.unique().tolist()
    assert len(values) == 2 and values[0] == 0.0 and values[1] == pytest.approx(factor)
    assert abs((keep == 0).float().mean().item() - p) < 0.005
    assert abs((other == 0).float().mean().item() - 0.2) < 0.005
    # independent across units and draws
    again = masks.draw(300, torch.float32, torch.device("cpu"))[0]
    assert abs(((keep == 0) & (again == 0)).float().mean().item() - p * p) < 0.005


def test_dropout_masks_of_a_stack_have_one_rate_per_member():
    masks = DropoutMasks([400], [[0.0], [0.5], [0.25]], seeds=0)
    (mask,) = masks.draw(200, torch.float64, torch.device("cpu"))
    assert mask.shape == (3, 200, 400)
    dropped = (mask == 0).double().mean((1, 2)).numpy()
    np.testing.assert_allclose(dropped, [0.0, 0.5, 0.25], atol=0.01)
    assert mask[0].eq(1).all() and set(mask[1].unique().tolist()) == {0.0, 2.0}


@pytest.mark.parametrize("seed", range(6))
def test_a_members_masks_are_its_own_whatever_the_stack(seed):
    """Member m's masks are a single network's with its seed and rates: the
    other members, their rates and how the rows are split into draws (widths
    and row counts that leave bytes of a 64-bit word unused, rates that need
    low bytes) do not change them."""
    cpu = torch.device("cpu")
    stack = DropoutMasks([13, 7], [[0.3, 0.0], [0.2, 0.1], [0.0, 0.0]],
                         seeds=[seed + 7, seed, seed + 5])
    single = DropoutMasks([13, 7], [[0.2, 0.1]], seeds=seed)
    first, second = (m.clone() for m in stack.draw(200, torch.float64, cpu))
    parts = [[m.clone() for m in single.draw(rows, torch.float64, cpu)] for rows in (37, 163)]
    torch.testing.assert_close(first[1], torch.cat([p[0] for p in parts]), rtol=0, atol=0)
    torch.testing.assert_close(second[1], torch.cat([p[1] for p in parts]), rtol=0, atol=0)
    # a member that drops nothing keeps every unit; member 0 keeps layer 2's
    assert first[2].eq(1).all() and second[0].eq(1).all()
    # the members left after a selection continue their own streams
    kept = stack.select([1])
    torch.testing.assert_close(kept.draw(51, torch.float64, cpu)[0],
                               single.draw(51, torch.float64, cpu)[0], rtol=0, atol=0)


def test_a_selection_keeps_the_banks_unused_chunks():
    """Batch i of a member gets chunk i of its rows: members leaving the stack
    mid-bank do not make the others skip rows."""
    batch = 10
    xb = torch.zeros(batch, 3, dtype=torch.float64)
    stack = DropoutMasks([9], [[0.25], [0.4]], seeds=[1, 2])
    source = mask_source(stack, batch, None)
    before = [source(xb)[0][1].clone() for _ in range(3)]
    kept = stack.select([1])
    source = mask_source(kept, batch, None)
    after = [source(xb)[0].clone() for _ in range(3)]
    single = DropoutMasks([9], [[0.4]], seeds=2)
    alone = mask_source(single, batch, None)
    expected = [alone(xb)[0].clone() for _ in range(6)]
    for got, want in zip(before + after, expected):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("p", [0.001, 0.1, 200 / 256])
def test_dropout_masks_are_exact_to_a_16_bit_threshold(p):
    """Units whose high byte ties with the threshold's draw a low byte: the
    drop rate is t / 2**16 even when the threshold t is not a multiple of 256."""
    t = round(p * 65536)
    masks = DropoutMasks([20000], [[t / 65536]], seeds=1)
    dropped = np.concatenate([
        (masks.draw(500, torch.float64, torch.device("cpu"))[0] == 0).numpy().ravel()
        for _ in range(4)])
    std = np.sqrt(t / 65536 * (1 - t / 65536) / dropped.size)
    assert abs(dropped.mean() - t / 65536) < 4 * std


def test_dropout_keeps_the_mean_activation():
    """Inverted dropout: training-mode outputs average to the eval output."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    est = RegularizedMLPRegressor(hidden_layer_sizes=(64,), dropout=0.4, max_iter=3,
                                  random_state=0).fit(X, X[:, 0])
    module = est.module_
    Xt = torch.as_tensor(est.scale_inputs(X))
    masks = DropoutMasks([64], [[0.4]], seeds=0)
    with torch.no_grad():
        deterministic = module.eval()(Xt)
        module.train()
        sampled = torch.stack([module(Xt, keep_masks=masks.draw(200, Xt.dtype, Xt.device))
                               for _ in range(400)]).mean(0)
    module.eval()
    torch.testing.assert_close(sampled, deterministic, atol=0.05, rtol=0.05)


@pytest.fixture
def drawn(monkeypatch):
    """The list of every dropout draw's masks (cloned), in the order drawn."""
    record = []
    draw = DropoutMasks.draw

    def recording_draw(self, *args, **kwargs):
        masks = draw(self, *args, **kwargs)
        record.append([None if m is None else m.clone() for m in masks])
        return masks

    monkeypatch.setattr(DropoutMasks, "draw", recording_draw)
    return record


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_manual_gradient_with_dropout_matches_autograd(activation, drawn):
    """SGD steps with dropout on every hidden layer, over batches of 12, 12
    and 6 rows, equal autograd's steps with the same masks."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    y = rng.normal(size=30)
    est = RegularizedMLPRegressor(numeric_embedding=None,
        hidden_layer_sizes=(6, 5, 4), activation=activation, dropout=0.25,
        solver="sgd", momentum=0.0, learning_rate_init=0.5, batch_size=12,
        shuffle=False, penalty=None, random_state=0, input_scaling=None,
        target_scaling=None)
    est.partial_fit(X, y)
    assert len(drawn) == 1
    after = [p.detach().clone() for p in est.module_.parameters()]

    fresh = RegularizedMLPRegressor(**est.get_params())
    fresh._n_targets = 1
    module = _initial_model(fresh, 4, 1, 12)
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
    from skreg._engine.loop import Trainer as LoopTrainer
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
    original = LoopTrainer._train

    def recording(self, *args, **kwargs):
        seen.append(denormals_flushed())
        return original(self, *args, **kwargs)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    monkeypatch.setattr(LoopTrainer, "_train", recording)
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
    assert flushed == 0.0, (f"{flushed:.0%} of a parallel kernel's results flushed "
                            f"({threads} threads)")


@pytest.mark.parametrize("weighted", [False, True])
def test_fast_fit_equals_a_plain_autograd_loop(drawn, weighted):
    """Three epochs of the fast path (hand-written pass, fused Adam without
    its Python wrapper, dropout masks with their factors, per-batch mask
    chunks, the proximal L1 step) equal a loop written plainly: autograd,
    torch.optim.Adam and the documented soft-threshold at Adam's step size,
    on the same shuffles and masks, including a short last batch, with and
    without sample weights."""
    rng = np.random.default_rng(3)
    n, batch, epochs, lr, alpha, l1_ratio, eps_ls = 50, 16, 3, 0.01, 0.05, 0.5, 0.1
    X = rng.normal(size=(n, 5))
    y = rng.integers(0, 3, size=n)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else np.ones(n)
    est = RegularizedMLPClassifier(numeric_embedding=None,
        hidden_layer_sizes=(8, 6), dropout=0.25, penalty="elasticnet", alpha=alpha,
        l1_ratio=l1_ratio, label_smoothing=eps_ls, learning_rate_init=lr,
        batch_size=batch, max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
        random_state=0, input_scaling=None).fit(
            X, y, sample_weight=w if weighted else None)
    assert est.n_iter_ == epochs and len(drawn) == 1

    fresh = RegularizedMLPClassifier(**est.get_params())
    fresh.classes_ = est.classes_
    module = _initial_model(fresh, 5, 3, batch)
    loss = est._trainer.config.loss
    coef, intercept = module.coef, module.intercept
    opt = torch.optim.Adam([{"params": [coef]}, {"params": [intercept]}], lr=lr)
    rng_perm = np.random.default_rng(int(est._trainer.config.seeds[0]))
    Xt, Wt = torch.as_tensor(X), torch.as_tensor(w)
    Tt = loss.targets(torch.as_tensor(y), torch.float64, eps_ls)
    masks = [m.to(torch.float64) for m in drawn[0]]
    chunk = 0
    for _ in range(epochs):
        perm = torch.as_tensor(rng_perm.permutation(n))
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            rows = len(idx)
            keeps = [m[chunk * batch: chunk * batch + rows] for m in masks]
            chunk += 1
            losses = loss.value(module(Xt[idx], keep_masks=keeps), Tt[idx])
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
    torch.testing.assert_close(est.module_.coef.detach(), coef.detach(),
                               rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(est.module_.intercept.detach(), intercept.detach(),
                               rtol=1e-9, atol=1e-12)
    assert (coef == 0).any()   # the proximal step zeroed weights


@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_gathered_together_are_the_batches_selected_one_by_one(monkeypatch,
                                                                     shuffle):
    """A plain fit gathers the rows of many batches at once and slices its
    batches from them; any span gives the same fit as one batch at a time."""
    from skreg._engine import loop

    rng = np.random.default_rng(1)
    X = rng.normal(size=(203, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=203)
    w = rng.uniform(0.5, 2.0, size=203)
    kw = dict(hidden_layer_sizes=(9,), batch_size=20, max_iter=3, random_state=0,
              shuffle=shuffle, dropout=0.2, numeric_embedding="periodic")
    fits = []
    for elements in (1, 3 * 20 * 9, loop.GATHER_ELEMENTS):   # 1 batch, 3 batches, all
        monkeypatch.setattr(loop, "GATHER_ELEMENTS", elements)
        est = RegularizedMLPClassifier(**kw).fit(X, y, sample_weight=w)
        fits.append((est.coefs_, est.intercepts_, est.loss_curve_))
    for coefs, intercepts, curve in fits[1:]:
        assert curve == fits[0][2]
        for a, b in zip(coefs + intercepts, fits[0][0] + fits[0][1]):
            np.testing.assert_array_equal(a, b)


def test_the_engine_has_no_import_cycle():
    """The state module and the config module do not import the training loop."""
    import ast
    import importlib

    for name in ("state", "config"):
        module = importlib.import_module(f"skreg._engine.{name}")
        tree = ast.parse(open(module.__file__).read())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level}
        assert "loop" not in imported, name
    from skreg._engine import Trainer, TrainingConfig, TrainingData, loop, state
    assert state._trainer_class is Trainer is loop.Trainer
    assert TrainingConfig is loop.TrainingConfig and TrainingData is loop.TrainingData


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


def test_small_steps_train_on_one_thread_of_the_fitting_thread_only(monkeypatch):
    """The thread budget of a small step is 1, for the calling thread only; a
    large step gets its share of the free CPUs; torch's setting is
    unchanged afterwards."""
    import threading

    from skreg import _threads

    before = torch.get_num_threads()
    small = _threads.step_work([20, 100, 2], 200)
    assert small == 200 * (20 * 100 + 100 * 2) < _threads.PARALLEL_MIN_WORK
    seen = []
    with _threads.torch_thread_budget(small) as n_threads:
        assert n_threads == 1 == torch.get_num_threads()
        other = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        other.start()
        other.join()
    assert torch.get_num_threads() == before
    assert seen == [before]

    large = 64 * _threads.PARALLEL_MIN_WORK
    monkeypatch.setattr(_threads, "free_cpus", lambda: 0)      # all CPUs busy
    with _threads.torch_thread_budget(large) as n_threads:
        assert n_threads == 1
    monkeypatch.setattr(_threads, "free_cpus", lambda: 1024)   # all CPUs free
    with _threads.torch_thread_budget(large) as n_threads:
        assert n_threads == before
    with _threads.torch_thread_budget() as n_threads:          # work unknown
        assert n_threads == before
    assert torch.get_num_threads() == before
    monkeypatch.undo()
    free = _threads.free_cpus()
    assert free is None or 0 <= free <= _threads._usable_cpus()


def test_a_fits_budget_follows_the_free_cpus_between_epochs(monkeypatch):
    """rebalance (before each epoch) moves a large step's budget between 1 and
    its ceiling as CPUs become busy or free; small steps stay on one thread."""
    from skreg import _threads

    before = torch.get_num_threads()
    if before < 2 or _threads._torch_openmp_runtime() is None:
        pytest.skip("one intra-op thread, or torch's OpenMP runtime not found directly")
    large = 64 * _threads.PARALLEL_MIN_WORK
    monkeypatch.setattr(_threads, "free_cpus", lambda **kw: 0)       # all CPUs busy
    with _threads.torch_thread_budget(large) as n_threads:
        assert n_threads == 1
        monkeypatch.setattr(_threads, "free_cpus", lambda **kw: 1024)   # all free now
        _threads.rebalance()
        assert torch.get_num_threads() == before
        monkeypatch.setattr(_threads, "free_cpus", lambda **kw: 0)
        _threads.rebalance()
        assert torch.get_num_threads() == 1
        monkeypatch.setattr(_threads, "free_cpus", lambda **kw: 1024)
    assert torch.get_num_threads() == before
    with _threads.torch_thread_budget(_threads.PARALLEL_MIN_WORK) as n_threads:
        _threads.rebalance()
        assert n_threads == 1 == torch.get_num_threads()
    _threads.rebalance()   # outside a budget: nothing
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("runtime", ["not found", "not torch's"])
def test_thread_budget_falls_back_to_threadpoolctl(monkeypatch, runtime):
    """Where torch's OpenMP runtime is not found directly, or the library found
    is not the one torch reads, threadpoolctl's controller sets the budget."""
    from skreg import _threads

    before = torch.get_num_threads()
    if before < 2:
        pytest.skip("one intra-op thread: nothing to limit")

    class Foreign:   # an OpenMP runtime torch does not read
        def omp_get_max_threads(self):
            return 7

        def omp_set_num_threads(self, n):
            pass

    monkeypatch.setattr(_threads, "_torch_openmp",
                        False if runtime == "not found" else Foreign())
    with _threads.torch_thread_budget(1) as n_threads:
        assert n_threads == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    assert _threads._torch_openmp is False


def test_training_threads_flush_on_one_thread_and_restore_the_mode():
    """training_threads: the budget, subnormals flushed inside, the thread's
    mode and torch's thread setting as before afterwards."""
    from skreg._threads import step_work, training_threads
    from skreg._torch.fpenv import denormals_are_zero, denormals_flushed

    if denormals_flushed() or denormals_are_zero():
        pytest.skip("this process already runs with subnormals flushed")
    before = torch.get_num_threads()
    with training_threads("cpu", step_work([8, 16, 1], 32)) as n_threads:
        assert n_threads == 1 == torch.get_num_threads()
        flushed = denormals_flushed()
    assert not denormals_flushed() and not denormals_are_zero()
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with training_threads("cpu", 1):
            raise RuntimeError
    assert not denormals_flushed() and torch.get_num_threads() == before
    with training_threads("meta", 1) as n_threads:   # other devices: no flushing
        assert n_threads == before and not denormals_flushed()
    if not flushed:
        pytest.skip("torch cannot set the flushing mode on this CPU")

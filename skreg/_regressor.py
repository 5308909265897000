"""RegularizedMLPRegressor: targets, target scaling, the regression losses and their outputs.

The output link (raw outputs -> predictions in the units of y) is shared by
the plain estimator's ``predict`` and a search's fold scores.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import BaseRegularizedMLP, _stochastic_solver
from ._engine import LOSSES
from ._mixins import R2ScoreMixin
from ._inputs import check_finite_outputs
from ._params_doc import COMMON_ATTRIBUTES, COMMON_PARAMS
from ._preprocessing import target_scaling_stats


class RegularizedMLPRegressor(R2ScoreMixin, BaseRegularizedMLP):
    __doc__ = """Multi-layer perceptron regressor with L1, L2 and elastic-net
    penalties, dropout and early stopping.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    the parameters they share have the same names, and the same defaults
    except ``alpha`` ('auto': an L2 strength that scales with the number of
    training rows). By default the inputs are also scaled robustly, the
    targets standardized and each numeric feature embedded by the learned
    PLR embedding (``input_scaling='robust'``, ``target_scaling='standard'``,
    ``numeric_embedding='plr'``); these defaults were chosen on a
    benchmark of real tabular datasets (the documentation's "Defaults"
    page). ``input_scaling=None, target_scaling=None,
    alpha=0.0001, numeric_embedding=None, categorical_features=None`` trains
    as ``MLPRegressor`` does. X may also be a pandas (or polars) DataFrame with categorical,
    string and bool columns and missing values, encoded by ``encoder_`` (see
    ``categorical_features``). The loss is
    half the squared error (``loss='squared_error'``) or half the Poisson
    deviance with a log link (``loss='poisson'``), see ``loss``.
    Multi-output targets are supported. The remaining differences from
    ``MLPRegressor`` are listed in the documentation's "Coming from
    scikit-learn's MLP" page.

    Parameters
    ----------
""" + COMMON_PARAMS + """
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error': half the squared error, with the gradient
        ``f(x_i) - y_i`` of ``sum_k (f(x_i)_k - y_ik)^2 / 2`` and the reported
        loss averaged over the ``K`` outputs, as ``MLPRegressor``.
        'poisson': half the Poisson deviance with a log link: the network's
        output ``z`` predicts ``mu = exp(z)`` and is trained on
        ``l_i = sum_k exp(z_ik) - y_ik z_ik`` (gradient ``exp(z) - y``), for
        non-negative targets such as counts.

    target_scaling : {'standard'} or None, default='standard'
        'standard' trains the network on ``(y_k - mean_k) / std_k`` per
        target ``k`` (``std_k`` 1 where it is 0), with the mean and standard
        deviation of the training targets, and maps its outputs back with
        ``f(x) * std_k + mean_k``: the default learning rate and ``alpha``
        then suit targets of any unit. With ``loss='poisson'`` the targets
        are divided by their mean instead (no centring, which would make
        them negative), which shifts the output bias by ``-log(mean_k)``.
        The penalty and the reported losses
        are those of the scaled problem (``loss_curve_`` is in units of
        ``std_k^2``). None trains on y as it is, as scikit-learn's MLP does.
        The default was chosen on the benchmark of the documentation's
        "Defaults" page. Stored in ``target_mean_`` and ``target_scale_``
        (None without scaling).

    Attributes
    ----------
""" + COMMON_ATTRIBUTES + """
    See Also
    --------
    RegularizedMLPClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : scikit-learn's MLP.
    sklearn.linear_model.ElasticNet : Penalised linear baseline.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skreg import RegularizedMLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=10, noise=1.0, random_state=0)
    >>> reg = RegularizedMLPRegressor(hidden_layer_sizes=(64,), penalty="l1",
    ...                               alpha=0.1, learning_rate_init=0.01,
    ...                               max_iter=300, random_state=0)
    >>> reg.fit(X, y / 100).score(X, y / 100) > 0.9
    True
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 loss="squared_error", solver="adam", penalty="l2", alpha="auto",
                 l1_ratio=0.15,
                 dropout=0.0, batch_size="auto", learning_rate_init=0.001,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, device="cpu",
                 l1_method="proximal", p=2.0, group_alpha=0.0, max_norm=None,
                 input_noise=0.0, hidden_noise=0.0, mixup=0.0, batch_norm=False,
                 learning_rate="constant", power_t=0.5, snapshot_every=None,
                 input_scaling="robust", target_scaling="standard", callbacks=None,
                 max_fun=15000, ensemble_size=1, numeric_embedding="plr",
                 embedding_size=8, categorical_features="from_dtype",
                 max_onehot_categories=16, scale_layer=False, weight_noise=0.0, gradient_noise=0.0,
                 gradient_noise_decay=0.55, l0_alpha=0.0, l0_gates="features"):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, penalty=penalty,
            alpha=alpha, l1_ratio=l1_ratio, dropout=dropout, batch_size=batch_size,
            learning_rate_init=learning_rate_init, max_iter=max_iter, shuffle=shuffle,
            random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
            momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            n_iter_no_change=n_iter_no_change, device=device, l1_method=l1_method,
            p=p, group_alpha=group_alpha, max_norm=max_norm, input_noise=input_noise,
            hidden_noise=hidden_noise, mixup=mixup, batch_norm=batch_norm,
            learning_rate=learning_rate, power_t=power_t, snapshot_every=snapshot_every,
            input_scaling=input_scaling, callbacks=callbacks, max_fun=max_fun,
            ensemble_size=ensemble_size, numeric_embedding=numeric_embedding,
            embedding_size=embedding_size, categorical_features=categorical_features,
            max_onehot_categories=max_onehot_categories, scale_layer=scale_layer,
            weight_noise=weight_noise, gradient_noise=gradient_noise,
            gradient_noise_decay=gradient_noise_decay, l0_alpha=l0_alpha,
            l0_gates=l0_gates)
        self.loss = loss
        self.target_scaling = target_scaling

    _parameter_constraints: dict = {
        **BaseRegularizedMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
        "target_scaling": [StrOptions({"standard"}), None],
    }

    def _make_loss(self):
        return LOSSES[self.loss](self._n_targets)

    def _learn_target_scaling(self, targets, sample_weight=None, rows=None):
        self.target_mean_ = self.target_scale_ = None
        if self.target_scaling != "standard":
            return
        mean, std = target_scaling_stats(targets, sample_weight, rows=rows)
        if self.loss == "poisson":
            # the log link needs non-negative targets: divide by the mean
            # instead, which shifts the output bias by -log(mean)
            mean, std = np.zeros_like(mean), np.where(mean > 0, mean, 1.0)
        self.target_mean_, self.target_scale_ = mean, std.astype(targets.dtype)

    def _scale_targets(self, targets, first_pass, sample_weight=None):
        if first_pass:
            self._learn_target_scaling(targets, sample_weight)
        if getattr(self, "target_mean_", None) is None:
            return targets
        return (targets - self.target_mean_) / self.target_scale_

    # ----------------------------------------------------------- output link
    def _unscale(self, out):
        """Network outputs in the units of y."""
        if getattr(self, "target_mean_", None) is None:
            return out
        with np.errstate(over="ignore"):  # reported just below
            out = out * self.target_scale_ + self.target_mean_
        check_finite_outputs(out)
        return out

    @staticmethod
    def _squeeze(predictions):
        """One output's predictions as a 1-d array, as scikit-learn's regressors."""
        return predictions[:, 0] if predictions.shape[1] == 1 else predictions

    #: the output a weighted average of regressors averages (see :meth:`_averaged`)
    _averaged_output = "predict"

    def _averaged(self, predictions, weights):
        """The outputs of the weighted average of several regressors' ``predictions``.

        ``sum_k w_k y_k`` over their ``predict`` arrays ``y_k`` (in the
        units of y), as the dict of :meth:`_scoring_outputs`.
        """
        return {"predict": np.tensordot(np.asarray(weights, dtype=np.float64),
                                        np.stack(predictions), axes=1)}

    def _scoring_outputs(self, raw):
        activated = self._make_loss().predict(raw).cpu().numpy()
        return {"predict": self._squeeze(self._unscale(activated))}

    def _validate_targets(self, y, incremental, first_pass, classes=None):
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"RegularizedMLPRegressor needs numeric targets; got y with dtype "
                    f"{y.dtype}.") from None
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(y2d < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                "regression (loss='poisson').")
        if first_pass:
            self._n_targets = y2d.shape[1]
        elif y2d.shape[1] != self._n_targets:
            raise ValueError(
                f"y has {y2d.shape[1]} targets, but the model was fitted with "
                f"{self._n_targets}.")
        return y2d.astype(np.float64, copy=False), None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data; sparse input is densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``s_i`` of the objective (see ``penalty``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch over X, y, keeping the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            Estimator after one more epoch. The convergence check does not
            apply to ``partial_fit``; with ``early_stopping=True`` it raises
            a ValueError, and with ``solver='lbfgs'`` it is not available
            (``hasattr(est, 'partial_fit')`` is False), as in scikit-learn.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X, return_std=False, mc_samples=30):
        """Predict targets, optionally with a Monte Carlo dropout uncertainty.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        return_std : bool, default=False
            If True, run ``mc_samples`` forward passes with dropout on and
            return their mean and standard deviation (MC dropout, the
            ensemble view of dropout). Needs a model trained with
            ``dropout > 0``.
        mc_samples : int, default=30
            Number of stochastic passes when ``return_std=True``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions (the deterministic network's, or the MC mean); 1-D
            when the model has one output.
        y_std : ndarray of the same shape
            Standard deviation over the passes; only with ``return_std=True``.
        """
        if not return_std:
            return self._squeeze(self._unscale(self._forward(X)))
        samples = self._unscale(self._mc_forward(X, mc_samples))
        return self._squeeze(samples.mean(axis=0)), self._squeeze(samples.std(axis=0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

"""Figures for judging regularization, in scikit-learn's Display style.

Each Display is built with ``from_estimator`` (or ``from_estimators``,
``from_predictions``, ``from_comparison``), draws at once, and can be drawn
again on other axes with ``plot(ax=...)``; both return the Display, whose
``figure_`` and ``ax_`` attributes hold what was drawn.

* :class:`TrainingHistoryDisplay`: training and validation loss with the
  best epoch marked; weight trajectories with the L1 and L2 norms on a twin
  axis.
* :class:`WeightMatrixDisplay`: one weight matrix of several fitted models
  side by side (L1 sparsity against L2).
* :class:`DecisionBoundaryGridDisplay`: scikit-learn's
  :class:`~sklearn.inspection.DecisionBoundaryDisplay` for several models on
  a grid of axes, with the training points.
* :class:`ReliabilityDisplay`: scikit-learn's
  :class:`~sklearn.calibration.CalibrationDisplay` of accuracy against
  confidence, with the expected calibration error.
* :class:`ComparisonDisplay`: train and test score per model (the figure of
  ``skreg compare --plot FILE``).

matplotlib is an optional dependency (``pip install "skreg[plot]"``); it is
imported only when something is drawn.
"""

import numpy as np

from .metrics import _bin_groups, _confidence_and_correct, expected_calibration_error

__all__ = [
    "ComparisonDisplay",
    "DecisionBoundaryGridDisplay",
    "ReliabilityDisplay",
    "TrainingHistoryDisplay",
    "WeightMatrixDisplay",
]

_NEAR_ZERO = 1e-3


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the test extra
        raise ImportError(
            "skreg.plotting needs matplotlib: pip install \"skreg[plot]\"") from exc
    return plt


def _named(estimators):
    """``{name: estimator}`` from a dict, or from a list (named by class)."""
    if isinstance(estimators, dict):
        items = list(estimators.items())
    else:
        items = [(type(e).__name__, e) for e in estimators]
    if not items:
        raise ValueError("estimators must hold at least one estimator; got none.")
    return items


def _final_estimator(estimator):
    """The last step of a pipeline, or the estimator itself."""
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def _check_axes(ax, n, name="ax"):
    axes = np.ravel(np.asarray(ax, dtype=object))
    if axes.size != n:
        raise ValueError(f"{name} must hold {n} matplotlib axes; got {axes.size}.")
    return axes


# ----------------------------------------------------------------- history
class TrainingHistoryDisplay:
    """Loss curves and weight trajectories of one training run.

    The top panel shows the training loss and, when available, the
    validation loss per epoch, with the best epoch as a dashed red line.
    The bottom panel shows the trajectories of individual weights (thin
    black lines, from the snapshots of ``snapshot_every``) and, on a twin
    axis, the L1 norm ``sum |w|`` (red) and L2 norm ``sqrt(sum w^2)``
    (blue) of all connection weights. Both x axes are logarithmic by
    default, as training changes fastest early.

    Build it with :meth:`from_estimator`; the constructor takes the arrays
    directly (for runs recorded some other way).

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers (1-based).
    train_loss : array-like of shape (n_epochs,)
        Training loss per epoch.
    valid_loss : array-like of shape (n_valid,), default=None
        Validation loss at the epochs ``valid_epochs``.
    valid_epochs : array-like of shape (n_valid,), default=None
        Epochs of ``valid_loss``; None means every epoch (``epochs``).
    best_epoch : int, default=None
        Epoch to mark; None marks none.
    l1_norm, l2_norm : array-like of shape (n_epochs,), default=None
        Norms of the weights after each epoch.
    snapshot_epochs : array-like of shape (n_snapshots,), default=None
        Epochs of the weight snapshots.
    snapshots : array-like of shape (n_snapshots, n_weights), default=None
        Weights at those epochs.
    estimator_name : str, default=None
        Title of the figure.

    Attributes
    ----------
    ax_ : ndarray of 2 matplotlib Axes
        The loss panel and the weight panel.
    norm_ax_ : matplotlib Axes or None
        The twin axis of the norms.
    figure_ : matplotlib Figure
        The figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skreg import RegularizedMLPRegressor
    >>> from skreg.datasets import make_noisy_linear
    >>> from skreg.plotting import TrainingHistoryDisplay
    >>> X, y = make_noisy_linear(300, random_state=0)
    >>> reg = RegularizedMLPRegressor((25,), penalty="l1", alpha=1.0, early_stopping=True,
    ...                               snapshot_every=5, max_iter=50, random_state=0)
    >>> disp = TrainingHistoryDisplay.from_estimator(reg.fit(X, y))
    >>> disp.best_epoch == reg.history_[-1, "best_epoch"]
    True
    """

    def __init__(self, *, epochs, train_loss, valid_loss=None, valid_epochs=None,
                 best_epoch=None, l1_norm=None, l2_norm=None, snapshot_epochs=None,
                 snapshots=None, estimator_name=None):
        self.epochs = np.asarray(epochs)
        self.train_loss = np.asarray(train_loss, dtype=float)
        if self.train_loss.shape != self.epochs.shape:
            raise ValueError(
                f"train_loss must have one value per epoch ({self.epochs.shape[0]}); got "
                f"shape {self.train_loss.shape}.")
        self.valid_loss = None if valid_loss is None else np.asarray(valid_loss, dtype=float)
        self.valid_epochs = self.epochs if valid_epochs is None else np.asarray(valid_epochs)
        if self.valid_loss is not None and self.valid_loss.shape != self.valid_epochs.shape:
            raise ValueError(
                f"valid_loss must have one value per entry of valid_epochs (or per epoch, "
                f"{self.valid_epochs.shape[0]}); got shape {self.valid_loss.shape}.")
        self.best_epoch = best_epoch
        self.l1_norm = None if l1_norm is None else np.asarray(l1_norm, dtype=float)
        self.l2_norm = None if l2_norm is None else np.asarray(l2_norm, dtype=float)
        self.snapshot_epochs = None if snapshot_epochs is None else np.asarray(snapshot_epochs)
        self.snapshots = None if snapshots is None else np.asarray(snapshots, dtype=float)
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, valid_loss=None, valid_epochs=None,
                       max_trajectories=300, log_x=True, ax=None, name=None):
        """Plot the ``history_`` of a fitted skreg estimator.

        Parameters
        ----------
        estimator : RegularizedMLPClassifier, RegularizedMLPRegressor or Pipeline
            Fitted; a pipeline's last step is used.
        valid_loss : array-like of shape (n_valid,), default=None
            Validation loss computed outside the estimator (in the units of
            ``history_[:, 'train_loss']``), at the epochs ``valid_epochs``.
            None uses ``history_[:, 'valid_loss']`` when the estimator
            recorded it (``early_stopping=True``).
        valid_epochs : array-like of shape (n_valid,), default=None
            Epochs of ``valid_loss``; None means every epoch.
        max_trajectories : int, default=300
            Plot at most this many weight trajectories, evenly spaced over
            the weights (all of them if there are fewer).
        log_x : bool, default=True
            Logarithmic epoch axis.
        ax : sequence of 2 matplotlib Axes, default=None
            The loss and the weight panel; None makes a new figure.
        name : str, default=None
            Title; None uses the estimator's class name.

        Returns
        -------
        display : TrainingHistoryDisplay
            The best epoch is the epoch of the smallest ``valid_loss`` when it is
            given, else the estimator's ``history_[-1, 'best_epoch']`` (the
            epoch whose weights early stopping restored), else None.
        """
        est = _final_estimator(estimator)
        if not hasattr(est, "history_"):
            raise ValueError(
                f"estimator must be a fitted skreg estimator with a history_; got "
                f"{type(est).__name__}.")
        rows = list(est.history_)
        epochs = np.array([r["epoch"] for r in rows])
        best = None
        if valid_loss is not None:
            valid_loss = np.asarray(valid_loss, dtype=float)
            at = epochs if valid_epochs is None else np.asarray(valid_epochs)
            if valid_loss.shape != at.shape:
                raise ValueError(
                    f"valid_loss must have one value per entry of valid_epochs (or per "
                    f"epoch, {len(at)}); got shape {valid_loss.shape}.")
            best = int(at[np.nanargmin(valid_loss)])
        elif all("valid_loss" in r for r in rows):
            valid_loss = [r["valid_loss"] for r in rows]
        if best is None and "best_epoch" in rows[-1]:
            best = int(rows[-1]["best_epoch"])

        def column(key):
            return [r[key] for r in rows] if all(key in r for r in rows) else None

        snaps = [(r["epoch"], r["coef_snapshot"]) for r in rows if "coef_snapshot" in r]
        snapshot_epochs = snapshots = None
        if snaps:
            snapshot_epochs = np.array([e for e, _ in snaps])
            snapshots = np.stack([s for _, s in snaps])
            if snapshots.shape[1] > max_trajectories:
                keep = np.linspace(0, snapshots.shape[1] - 1, max_trajectories).astype(int)
                snapshots = snapshots[:, keep]
        display = cls(epochs=epochs, train_loss=[r["train_loss"] for r in rows],
                      valid_loss=valid_loss, valid_epochs=valid_epochs, best_epoch=best,
                      l1_norm=column("l1_norm"),
                      l2_norm=column("l2_norm"), snapshot_epochs=snapshot_epochs,
                      snapshots=snapshots, estimator_name=name or type(est).__name__)
        return display.plot(ax=ax, log_x=log_x)

    def plot(self, ax=None, *, log_x=True):
        """Draw the two panels.

        Parameters
        ----------
        ax : sequence of 2 matplotlib Axes, default=None
            The loss and the weight panel; None makes a new figure.
        log_x : bool, default=True
            Logarithmic epoch axis.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
        ax = _check_axes(ax, 2)
        ax_loss, ax_w = ax
        ax_loss.plot(self.epochs, self.train_loss, label="train loss")
        if self.valid_loss is not None:
            ax_loss.plot(self.valid_epochs, self.valid_loss, label="validation loss")
        if self.best_epoch is not None:
            for a in ax:
                a.axvline(self.best_epoch, color="r", ls="--", lw=1)
            ax_loss.text(self.best_epoch, 0.95, f" best epoch ({self.best_epoch})",
                         va="top", ha="left", color="r",
                         transform=ax_loss.get_xaxis_transform())
        positive = np.all(self.train_loss > 0) and (
            self.valid_loss is None or np.all(self.valid_loss > 0))
        ax_loss.set(ylabel="loss", yscale="log" if positive else "linear")
        ax_loss.legend(loc="lower left", frameon=False)
        ax_loss.grid(lw=0.3)
        if self.snapshots is not None:
            alpha = min(0.6, max(0.15, 20.0 / self.snapshots.shape[1]))
            ax_w.plot(self.snapshot_epochs, self.snapshots, color="k", lw=0.5, alpha=alpha)
        ax_w.set(xlabel="epoch", ylabel="weight values" if self.snapshots is not None else "")
        ax_w.grid(lw=0.3)
        self.norm_ax_ = None
        if self.l1_norm is not None or self.l2_norm is not None:
            twin = ax_w.twinx()
            if self.l1_norm is not None:
                twin.plot(self.epochs, self.l1_norm, color="tab:red", label="L1 norm")
            if self.l2_norm is not None:
                twin.plot(self.epochs, self.l2_norm, color="tab:blue", label="L2 norm")
            norms = [v for v in (self.l1_norm, self.l2_norm) if v is not None]
            if all(np.all(v > 0) for v in norms):
                twin.set_yscale("log")  # L1 and L2 norms differ by orders of magnitude
            twin.set(ylabel="norm of the weights")
            twin.legend(loc="upper right", frameon=False)
            self.norm_ax_ = twin
        if log_x:
            ax_loss.set_xscale("log")
            ax_w.set_xscale("log")
        if self.estimator_name:
            ax_loss.set_title(self.estimator_name)
        self.ax_ = ax
        self.figure_ = ax_loss.figure
        return self


# ---------------------------------------------------------- weight matrices
class WeightMatrixDisplay:
    """One weight matrix of several models side by side.

    Each matrix is drawn as an image on one diverging colour scale,
    symmetric around 0 and shared by all panels (white is 0), with the
    share of weights below ``1e-3`` in magnitude in the panel title, so
    that L1's sparsity stands out against L2's small-but-dense weights.

    Parameters
    ----------
    matrices : list of ndarray of shape (fan_in, fan_out)
        The matrices.
    names : list of str
        One title per matrix.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes
        One per matrix.
    image_ : matplotlib AxesImage
        The last panel's image (for a colour bar).
    figure_ : matplotlib Figure
        The figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skreg import RegularizedMLPClassifier
    >>> from skreg.datasets import make_noisy_moons
    >>> from skreg.plotting import WeightMatrixDisplay
    >>> X, y = make_noisy_moons(random_state=0)
    >>> models = {p: RegularizedMLPClassifier((16, 16), penalty=p, alpha=1.0, max_iter=20,
    ...                                       random_state=0).fit(X, y) for p in ("l2", "l1")}
    >>> disp = WeightMatrixDisplay.from_estimators(models, layer=1)
    >>> disp.matrices[0].shape
    (16, 16)
    """

    def __init__(self, matrices, names):
        self.matrices = [np.asarray(m, dtype=float) for m in matrices]
        self.names = list(names)
        if len(self.names) != len(self.matrices):
            raise ValueError(
                f"names must have one entry per matrix ({len(self.matrices)}); got "
                f"{len(self.names)}.")

    @classmethod
    def from_estimators(cls, estimators, *, layer=1, ax=None, cmap="RdBu_r"):
        """Plot ``coefs_[layer]`` of each fitted estimator.

        Parameters
        ----------
        estimators : dict of str to estimator, or list of estimators
            Fitted skreg estimators (or pipelines ending in one), by title.
        layer : int, default=1
            Index into ``coefs_``: 0 is input-to-first-hidden, 1 (the
            default) the first hidden-to-hidden matrix.
        ax : sequence of matplotlib Axes, default=None
            One per estimator; None makes a new figure with one row.
        cmap : str, default='RdBu_r'
            Diverging colour map.

        Returns
        -------
        display : WeightMatrixDisplay
        """
        items = _named(estimators)
        matrices = []
        for name, est in items:
            coefs = _final_estimator(est).coefs_
            if not -len(coefs) <= layer < len(coefs):
                raise ValueError(
                    f"layer must index coefs_ of {name!r}, which has {len(coefs)} matrices; "
                    f"got layer={layer}.")
            matrices.append(coefs[layer])
        return cls(matrices, [n for n, _ in items]).plot(ax=ax, cmap=cmap)

    def plot(self, ax=None, *, cmap="RdBu_r"):
        """Draw the matrices.

        Parameters
        ----------
        ax : sequence of matplotlib Axes, default=None
            One per matrix; None makes a new figure with one row.
        cmap : str, default='RdBu_r'
            Diverging colour map.

        Returns
        -------
        display : WeightMatrixDisplay
        """
        plt = _pyplot()
        n = len(self.matrices)
        if ax is None:
            fig, ax = plt.subplots(1, n, figsize=(3.2 * n + 0.8, 3.4), squeeze=False)
        ax = _check_axes(ax, n)
        vmax = max(float(np.abs(m).max()) for m in self.matrices) or 1.0
        for a, m, name in zip(ax, self.matrices, self.names):
            self.image_ = a.imshow(m, cmap=cmap, vmin=-vmax, vmax=vmax,
                                   interpolation="nearest")
            a.set_title(f"{name}\n|w| < 1e-3: {np.mean(np.abs(m) < _NEAR_ZERO):.0%}",
                        fontsize=10)
            a.set(xticks=[], yticks=[])
        self.figure_ = ax[0].figure
        self.figure_.colorbar(self.image_, ax=list(ax), shrink=0.8, label="weight")
        self.ax_ = ax
        return self


# -------------------------------------------------------- decision boundary
class DecisionBoundaryGridDisplay:
    """Decision boundaries of several classifiers on a grid of axes.

    Each panel is a :class:`sklearn.inspection.DecisionBoundaryDisplay` of
    one fitted classifier over the range of ``X`` (two features), with the
    points of ``X`` coloured by ``y`` on top.

    Parameters
    ----------
    displays : list of DecisionBoundaryDisplay
        One per classifier.
    names : list of str
        One title per classifier.
    X : ndarray of shape (n_samples, 2)
        The points drawn on each panel.
    y : ndarray of shape (n_samples,)
        Their labels.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes
        One per classifier, in the order given.
    figure_ : matplotlib Figure
        The figure.
    """

    def __init__(self, displays, names, X, y):
        self.displays = list(displays)
        self.names = list(names)
        self.X = np.asarray(X)
        self.y = np.asarray(y)

    @classmethod
    def from_estimators(cls, estimators, X, y, *, response_method="auto", ncols=3,
                        grid_resolution=200, ax=None, cmap="RdBu_r"):
        """Draw the decision boundary of each fitted classifier.

        Parameters
        ----------
        estimators : dict of str to estimator, or list of estimators
            Fitted classifiers on two features, by title.
        X : array-like of shape (n_samples, 2)
            Points that set the plotted range and are drawn on each panel.
        y : array-like of shape (n_samples,)
            Their labels (the colour of the points).
        response_method : {'auto', 'predict_proba', 'decision_function', 'predict'}, default='auto'
            Passed to :meth:`DecisionBoundaryDisplay.from_estimator`;
            'predict_proba' shows the confidence contours.
        ncols : int, default=3
            Panels per row when ``ax`` is None.
        grid_resolution : int, default=200
            Grid points per axis.
        ax : sequence of matplotlib Axes, default=None
            One per estimator; None makes a new figure.
        cmap : str, default='RdBu_r'
            Colour map of the response and the points.

        Returns
        -------
        display : DecisionBoundaryGridDisplay
        """
        from sklearn.inspection import DecisionBoundaryDisplay

        plt = _pyplot()
        items = _named(estimators)
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"X must have exactly 2 features to be drawn; got shape {X.shape}.")
        n = len(items)
        if ax is None:
            nrows = -(-n // ncols)
            ncol = min(ncols, n)
            fig, ax = plt.subplots(nrows, ncol, figsize=(3.2 * ncol, 3.0 * nrows),
                                   squeeze=False)
            for extra in ax.ravel()[n:]:
                extra.set_visible(False)
            ax = ax.ravel()[:n]
        ax = _check_axes(ax, n)
        displays = [DecisionBoundaryDisplay.from_estimator(
            est, X, response_method=response_method, grid_resolution=grid_resolution,
            ax=a, cmap=cmap, alpha=0.8, eps=0.3) for a, (_, est) in zip(ax, items)]
        display = cls(displays, [name for name, _ in items], X, y)
        display._draw_points(ax, cmap)
        return display

    def _draw_points(self, ax, cmap):
        for a, name in zip(ax, self.names):
            a.scatter(self.X[:, 0], self.X[:, 1], c=self.y, cmap=cmap, s=16,
                      edgecolors="white", linewidths=0.6)
            a.set_title(name, fontsize=10)
            a.set(xticks=[], yticks=[], xlabel="", ylabel="")
        self.ax_ = ax
        self.figure_ = ax[0].figure

    def plot(self, ax=None, *, cmap="RdBu_r"):
        """Draw the stored boundaries again, on new axes.

        Parameters
        ----------
        ax : sequence of matplotlib Axes, default=None
            One per classifier; None makes a new figure with one row.
        cmap : str, default='RdBu_r'
            Colour map of the response and the points.

        Returns
        -------
        display : DecisionBoundaryGridDisplay
        """
        plt = _pyplot()
        n = len(self.displays)
        if ax is None:
            fig, ax = plt.subplots(1, n, figsize=(3.2 * n, 3.0), squeeze=False)
        ax = _check_axes(ax, n)
        for a, d in zip(ax, self.displays):
            d.plot(ax=a, cmap=cmap, alpha=0.8)
        self._draw_points(ax, cmap)
        return self


# --------------------------------------------------------------- calibration
class ReliabilityDisplay:
    """Reliability diagram (accuracy against confidence) with the ECE.

    The confidence ``p_hat_i`` of a prediction is its largest class
    probability. The samples are grouped into bins of confidence and each
    bin's accuracy is plotted against its mean confidence through
    :class:`sklearn.calibration.CalibrationDisplay` (top-label calibration:
    the "positives" are the correct predictions), with the diagonal of
    perfect calibration; points below it are overconfident. The legend gives
    :func:`skreg.metrics.expected_calibration_error` with the same bins.
    Works for binary and multiclass classifiers.

    Parameters
    ----------
    calibration_display : sklearn.calibration.CalibrationDisplay
        The drawn curve.
    ece : float
        The expected calibration error.
    name : str
        Name of the classifier.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.
    line_ : matplotlib Line2D
        The calibration curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skreg.plotting import ReliabilityDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=2000).fit(X[:1000], y[:1000])
    >>> disp = ReliabilityDisplay.from_estimator(clf, X[1000:], y[1000:])
    >>> 0 <= disp.ece <= 1
    True
    """

    def __init__(self, calibration_display, ece, name):
        self.calibration_display = calibration_display
        self.ece = ece
        self.name = name

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n_bins=15, strategy="quantile", name=None,
                       ax=None):
        """Reliability diagram of a fitted classifier on ``X, y``.

        Parameters
        ----------
        estimator : classifier
            Fitted, with ``predict_proba`` and ``classes_``.
        X : array-like of shape (n_samples, n_features)
            Evaluation inputs.
        y : array-like of shape (n_samples,)
            Their true labels.
        n_bins : int, default=15
            Number of bins.
        strategy : {'quantile', 'uniform'}, default='quantile'
            Bins of equal size or of equal width.
        name : str, default=None
            Legend label; None uses the estimator's class name.
        ax : matplotlib Axes, default=None
            None makes a new figure.

        Returns
        -------
        display : ReliabilityDisplay
        """
        y_prob = estimator.predict_proba(X)
        return cls.from_predictions(y, y_prob, labels=estimator.classes_, n_bins=n_bins,
                                    strategy=strategy,
                                    name=name or type(_final_estimator(estimator)).__name__,
                                    ax=ax)

    @classmethod
    def from_predictions(cls, y_true, y_prob, *, labels=None, n_bins=15, strategy="quantile",
                         name="classifier", ax=None):
        """Reliability diagram of predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Class probabilities, or the positive class's for a binary problem.
        labels : array-like of shape (n_classes,), default=None
            The class of each column of ``y_prob``; None uses
            ``np.unique(y_true)``.
        n_bins : int, default=15
            Number of bins.
        strategy : {'quantile', 'uniform'}, default='quantile'
            Bins of equal size or of equal width.
        name : str, default='classifier'
            Legend label.
        ax : matplotlib Axes, default=None
            None makes a new figure.

        Returns
        -------
        display : ReliabilityDisplay
        """
        from sklearn.calibration import CalibrationDisplay

        ece = expected_calibration_error(y_true, y_prob, n_bins=n_bins, strategy=strategy,
                                         labels=labels)
        confidence, correct = _confidence_and_correct(y_true, y_prob, labels, None)
        calibration = CalibrationDisplay(*_curve(correct, confidence, n_bins, strategy),
                                         y_prob=confidence, estimator_name=name,
                                         pos_label=1)
        return cls(calibration, ece, name).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the curve and the diagonal.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            None makes a new figure.

        Returns
        -------
        display : ReliabilityDisplay
        """
        _pyplot()
        self.calibration_display.plot(ax=ax, name=f"{self.name} (ECE = {self.ece:.3f})")
        self.ax_ = self.calibration_display.ax_
        self.ax_.set(xlabel="mean confidence", ylabel="accuracy")
        self.ax_.legend(loc="upper left", fontsize=8)
        self.figure_ = self.calibration_display.figure_
        self.line_ = self.calibration_display.line_
        return self


def _curve(correct, confidence, n_bins, strategy):
    """(accuracy, mean confidence) per bin, in CalibrationDisplay's argument order."""
    groups = _bin_groups(confidence, n_bins, strategy)
    return (np.array([correct[g].mean() for g in groups]),
            np.array([confidence[g].mean() for g in groups]))


# ----------------------------------------------------------------- comparison
class ComparisonDisplay:
    """Train and test score of several models, one column per model.

    Blue dots are train scores, red dots test scores (with the standard
    deviation over folds as error bars when given); dashed lines continue
    the first model's scores across the plot as the baseline. A large gap
    between a model's two dots is overfitting.

    Parameters
    ----------
    names : list of str
        Model names.
    train_scores : array-like of shape (n_models,)
        Train score of each model.
    test_scores : array-like of shape (n_models,)
        Test (or validation) score of each model.
    test_std : array-like of shape (n_models,), default=None
        Standard deviation of the test score (error bars).
    score_name : str, default='score'
        Label of the y axis.
    test_label : str, default='test'
        Legend label of the test scores (e.g. 'validation').

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.
    """

    def __init__(self, names, train_scores, test_scores, *, test_std=None, score_name="score",
                 test_label="test"):
        self.names = list(names)
        self.train_scores = np.asarray(train_scores, dtype=float)
        self.test_scores = np.asarray(test_scores, dtype=float)
        self.test_std = None if test_std is None else np.asarray(test_std, dtype=float)
        self.score_name = score_name
        self.test_label = test_label
        n = len(self.names)
        for key in ("train_scores", "test_scores", "test_std"):
            value = getattr(self, key)
            if value is not None and value.shape != (n,):
                raise ValueError(f"{key} must have one value per model ({n}); got shape "
                                 f"{value.shape}.")

    @classmethod
    def from_comparison(cls, comparison, *, ax=None):
        """Plot the result of :func:`skreg.cli.compare`.

        Parameters
        ----------
        comparison : skreg.cli.Comparison
            Its rows give the mean train and cross-validated test score of
            each model and the standard deviation over folds; its ``metric``
            labels the y axis.
        ax : matplotlib Axes, default=None
            None makes a new figure.

        Returns
        -------
        display : ComparisonDisplay
        """
        rows = comparison.rows
        return cls([r["model"] for r in rows], [r["train_mean"] for r in rows],
                   [r["test_mean"] for r in rows], test_std=[r["test_std"] for r in rows],
                   score_name=comparison.metric).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            None makes a new figure.

        Returns
        -------
        display : ComparisonDisplay
        """
        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(self.names)), 4.2))
        x = np.arange(len(self.names))
        ax.scatter(x, self.train_scores, color="tab:blue", label="train", zorder=3)
        ax.errorbar(x, self.test_scores, yerr=self.test_std, fmt="o", color="tab:red",
                    capsize=3, zorder=3,
                    label=self.test_label if self.test_std is None
                    else f"{self.test_label} (mean, std over folds)")
        ax.axhline(self.train_scores[0], color="tab:blue", ls="--", lw=0.7, alpha=0.6)
        ax.axhline(self.test_scores[0], color="tab:red", ls="--", lw=0.7, alpha=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels([n.replace(" + ", "\n+ ") for n in self.names], fontsize=8)
        ax.set(ylabel=self.score_name, xlim=(-0.5, len(x) - 0.5))
        ax.grid(axis="y", lw=0.3)
        ax.legend(loc="best", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

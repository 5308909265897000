"""scikit-learn's classifier and regressor mixins, with ``score`` documented here.

The estimators' ``score`` is scikit-learn's; it is defined again only so that
its formula is part of skreg's API reference, like every other method.
"""

from sklearn.base import ClassifierMixin, RegressorMixin


class AccuracyScoreMixin(ClassifierMixin):
    """:class:`sklearn.base.ClassifierMixin` whose ``score`` is documented here."""

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        ``sum_i w_i [yhat_i = y_i] / sum_i w_i`` (``w_i = 1`` without
        ``sample_weight``); for multilabel targets a sample counts as right
        only when all its labels are (subset accuracy). scikit-learn's
        ``ClassifierMixin.score``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``w_i``.

        Returns
        -------
        score : float
            The accuracy, in [0, 1].
        """
        return super().score(X, y, sample_weight=sample_weight)


class R2ScoreMixin(RegressorMixin):
    """:class:`sklearn.base.RegressorMixin` whose ``score`` is documented here."""

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of ``predict(X)`` against ``y``.

        ``R^2 = 1 - sum_i w_i (y_i - yhat_i)^2 / sum_i w_i (y_i - ybar)^2``
        with ``ybar`` the weighted mean of ``y``; 1 is a perfect fit, 0 the
        constant prediction ``ybar``, and it can be negative. Several
        targets: the uniform average over them. scikit-learn's
        ``RegressorMixin.score``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``w_i``.

        Returns
        -------
        score : float
            R^2.
        """
        return super().score(X, y, sample_weight=sample_weight)

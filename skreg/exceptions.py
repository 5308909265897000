"""Exceptions and warnings raised by skreg (as :mod:`sklearn.exceptions`)."""

__all__ = ["DivergenceError"]


class DivergenceError(ValueError, FloatingPointError):
    """Raised when the training objective (data loss + penalty) becomes NaN or infinite.

    The parameters and optimizer state are rolled back to the end of the
    last finite epoch before it is raised, so the model stays usable. It is
    a :class:`ValueError` (what scikit-learn's MLP raises on non-finite
    values) and a :class:`FloatingPointError`.
    """

"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor


def _estimators():
    # small networks and few epochs keep the ~60 checks per estimator fast;
    # the defaults are exercised by the behaviour tests
    common = dict(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01)
    return [RegularizedMLPClassifier(**common), RegularizedMLPRegressor(**common)]


# No expected failures. The one skip per estimator is scikit-learn's own
# check_array_api_input, which skips itself unless SCIPY_ARRAY_API=1 is set
# (skreg converts input to numpy and declares no array-API support).
@parametrize_with_checks(_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

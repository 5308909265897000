"""SMOTE in an imbalanced-learn pipeline against ``class_weight='balanced'``.

"Regularisation: A Deep Dive into Theory, Implementation, and Practical
Insights" recommends SMOTE (synthetic minority over-sampling) for imbalanced
classification: new minority rows are drawn on the segments between a minority
row and its minority neighbours, so that the model stops favouring the majority
class. It reports no numbers. skreg offers two routes: a SMOTE step in an
imbalanced-learn pipeline (resampling at fit time only), or
``class_weight='balanced'``, which reweights the loss by ``n_samples /
(n_classes * count(class))`` without new rows.

On 3000 rows with 5% positives (``make_classification``, 20 features),
5-fold stratified cross-validation, this script prints::

    model                    balanced acc  minority recall  minority precision
    no rebalancing                  0.754            0.509               0.988
    SMOTE pipeline                  0.853            0.749               0.512
    class_weight='balanced'         0.870            0.804               0.426

Both rebalancing routes raise the minority recall (`0.51` -> `0.75` and
`0.80`) and the balanced accuracy (`0.754` -> `0.853` and `0.870`) at the
cost of precision (`0.99` -> `0.51` and `0.43`); here ``class_weight`` does
slightly better than SMOTE, without extra rows.

The figure shows train and test balanced accuracy per model (left) and the
minority class's recall and precision (right).

Run: ``python examples/plot_imbalanced_smote.py [FIGURE.png]`` (about 20 s
on 2 cores).
"""

import os
import sys
import warnings

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedMLPClassifier
from skreg.plotting import ComparisonDisplay

FAST = bool(os.environ.get("SKREG_EXAMPLES_FAST"))
FIGURE = "imbalanced_smote.png"


def main(path=None):
    path = path or FIGURE
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = make_classification(1000 if FAST else 3000, 20, n_informative=5,
                               weights=[0.95, 0.05], flip_y=0.01, random_state=0)
    mlp = dict(
        numeric_embedding=None,  # the published plain network
        hidden_layer_sizes=(32,), alpha=1.0, max_iter=30 if FAST else 100,
        random_state=0)
    models = {
        "no rebalancing": make_pipeline(StandardScaler(), RegularizedMLPClassifier(**mlp)),
        "SMOTE pipeline": make_imb_pipeline(StandardScaler(), SMOTE(random_state=0),
                                            RegularizedMLPClassifier(**mlp)),
        "class_weight='balanced'": make_pipeline(
            StandardScaler(), RegularizedMLPClassifier(class_weight="balanced", **mlp)),
    }
    scoring = {"balanced_accuracy": "balanced_accuracy", "recall": "recall",
               "precision": "precision"}
    cv = StratifiedKFold(3 if FAST else 5, shuffle=True, random_state=0)
    print(f"{'model':<24} {'balanced acc':>12} {'minority recall':>16} "
          f"{'minority precision':>19}")
    results = {}
    for name, model in models.items():
        scores = cross_validate(model, X, y, cv=cv, scoring=scoring, return_train_score=True)
        results[name] = {key: float(np.mean(value)) for key, value in scores.items()
                         if key.startswith(("test_", "train_"))}
        r = results[name]
        print(f"{name:<24} {r['test_balanced_accuracy']:>12.3f} {r['test_recall']:>16.3f} "
              f"{r['test_precision']:>19.3f}")

    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    names = list(results)
    ComparisonDisplay(names, [results[n]["train_balanced_accuracy"] for n in names],
                      [results[n]["test_balanced_accuracy"] for n in names],
                      score_name="balanced accuracy").plot(ax=left)
    left.set_title("balanced accuracy (5-fold CV)", fontsize=10)
    x = np.arange(len(names))
    right.bar(x - 0.2, [results[n]["test_recall"] for n in names], 0.4, label="recall")
    right.bar(x + 0.2, [results[n]["test_precision"] for n in names], 0.4,
              label="precision")
    right.set_xticks(x)
    right.set_xticklabels(names, fontsize=8)
    right.set(ylim=(0, 1), title="minority class (5% of rows), test folds")
    right.legend()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"figure saved to {path}")
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

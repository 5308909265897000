"""The figures of the README and the docs, made from the result files.

The README and ``docs/defaults.md`` hold blocks between ``<!-- figures:NAME -->`` and
``<!-- /figures:NAME -->``; each block is the output of :func:`block` for NAME,
computed from ``benchmarks/results/accuracy/*.json`` (by ``report_accuracy.combine``)
or ``benchmarks/results/fit.json``.
``python benchmarks/figures.py`` rewrites the blocks in place after a new run;
``tests/test_doc_figures.py`` fails when a block differs from what the files give,
so the figures in the text cannot drift from the results.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report_accuracy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results", "accuracy")

#: the files that hold the figures, in the order the blocks appear
DOCUMENTS = ("README.md", os.path.join("docs", "defaults.md"),
             os.path.join("docs", "benchmarks.md"))

#: what each comparison combines: result files and model labels (table order)
VIEWS = {
    "defaults": (["test_plain.json", "test_baselines.json"],
                 ["skreg", "skreg_balanced", "hgb", "sklearn_mlp", "linear"]),
    "cv": (["test_plain.json", "test_baselines.json", "test_cv.json"],
           ["skreg", "skreg_cv", "skreg_balanced", "hgb", "sklearn_mlp", "linear"]),
    "realmlp": (["test_plain.json", "test_baselines.json", "test_cv.json", "test_realmlp.json"],
                ["skreg", "skreg_cv", "skreg_balanced", "hgb", "sklearn_mlp", "linear",
                 "realmlp"]),
    "tabm": (["test_plain.json", "test_baselines.json", "test_cv.json", "test_realmlp.json",
              "test_tabm.json"],
             ["skreg", "skreg_cv", "skreg_balanced", "hgb", "sklearn_mlp", "linear", "realmlp",
              "tabm"]),
}

GROUPS = {"clf": "classification (accuracy)", "reg": "regression (R^2)",
          "imb": "imbalanced classification (balanced accuracy)"}
NAMES = {"skreg": "skreg defaults", "skreg_cv": "skreg CV", "skreg_balanced":
         "skreg balanced", "hgb": "HistGradientBoosting", "sklearn_mlp":
         "scikit-learn MLP", "linear": "linear", "realmlp": "RealMLP-TD", "tabm": "TabM-D"}

#: the short names of the win-rate columns
SHORT = {"hgb": "HGB", "sklearn_mlp": "MLP", "realmlp": "RealMLP", "tabm": "TabM",
         "linear": "linear"}

_cache = {}


def aggregate(view):
    """``{group: {model: row}}``: the test half's aggregate rows of a view (cached)."""
    if view not in _cache:
        files, models = VIEWS[view]
        payload = report_accuracy.combine([os.path.join(RESULTS, f) for f in files], models)
        rows = {}
        for a in payload["summary"]["aggregate"]:
            if a["half"] == "test":
                rows.setdefault(a["group"], {})[a["model"]] = a
        _cache[view] = rows
    return _cache[view]


def _wins(row, baseline):
    if baseline == row["model"]:
        return "-"
    w = row["vs"].get(baseline)
    return "" if w is None else f"{w['win_rate']:.2f} ({w['wins']}-{w['ties']}-{w['losses']})"


def table(view, group, against=("hgb", "sklearn_mlp")):
    """One group of a view as a markdown table: a row per model, lower errors are better.

    Columns: mean score, SGM error, normalized error, mean rank, win rates
    (wins-ties-losses) against ``against`` (HGB: HistGradientBoosting, MLP:
    scikit-learn's), median fit seconds. Bold: the best of each of the
    first four columns.
    """
    rows = aggregate(view)[group]
    models = list(rows)
    against = [b for b in against if b in rows]
    best = {"mean_score": max(rows[m]["mean_score"] for m in models),
            "sgm_error": min(rows[m]["sgm_error"] for m in models),
            "mean_norm_error": min(rows[m]["mean_norm_error"] for m in models),
            "mean_rank": min(rows[m]["mean_rank"] for m in models)}

    def cell(row, key, fmt):
        text = format(row[key], fmt)
        return f"**{text}**" if format(best[key], fmt) == text else text

    head = ["model", "mean score", "SGM error", "norm. error", "mean rank",
            *[f"wins vs {SHORT[b]}" for b in against], "median fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in models:
        r = rows[m]
        lines.append("| " + " | ".join([
            NAMES[m], cell(r, "mean_score", ".4f"), cell(r, "sgm_error", ".4f"),
            cell(r, "mean_norm_error", ".3f"), cell(r, "mean_rank", ".2f"),
            *[_wins(r, b) for b in against], f"{r['median_fit_seconds']:.2f}"]) + " |")
    n = rows[models[0]]["n_datasets"]
    return f"**{GROUPS[group]}**, {n} datasets\n\n" + "\n".join(lines)


def tables(view, against=("hgb", "sklearn_mlp")):
    """Every group of a view, one table each."""
    return "\n\n".join(table(view, g, against) for g in GROUPS if g in aggregate(view))


def _score(view, group, model):
    return aggregate(view)[group][model]["mean_score"]


def _ratio(view, group, model, baseline):
    rows = aggregate(view)[group]
    return rows[model]["median_fit_seconds"] / rows[baseline]["median_fit_seconds"]


def readme_summary():
    """The README's table: when skreg fits, and when something else does, with figures."""
    d, r = "defaults", "realmlp"
    n = {g: aggregate(d)[g]["skreg"]["n_datasets"] for g in GROUPS}
    n_base = {g: aggregate(r)[g]["skreg"]["n_datasets"] for g in GROUPS}
    lines = [
        "| if you want | use | on the held-out half of the benchmark |",
        "|---|---|---|",
        f"| a better `MLPClassifier` with one import | skreg's defaults | accuracy "
        f"{_score(d, 'clf', 'skreg'):.3f} against {_score(d, 'clf', 'sklearn_mlp'):.3f} for "
        f"scikit-learn's MLP and {_score(d, 'clf', 'hgb'):.3f} for HistGradientBoosting "
        f"({n['clf']} datasets), at {_ratio(d, 'clf', 'skreg', 'sklearn_mlp'):.1f}x the MLP's "
        f"median fit time; HistGradientBoosting still scores higher on "
        f"{aggregate(d)['clf']['skreg']['vs']['hgb']['losses']} of them |",
        f"| regression with no tuning | HistGradientBoosting | R^2 "
        f"{_score(d, 'reg', 'hgb'):.3f} against skreg's {_score(d, 'reg', 'skreg'):.3f} and "
        f"RidgeCV's {_score(d, 'reg', 'linear'):.3f} ({n['reg']} datasets) |",
        f"| the best accuracy, and a minute to spare | `RegularizedMLPClassifierCV` / "
        f"`RegularizedMLPRegressorCV` | accuracy {_score(r, 'clf', 'skreg_cv'):.3f} and R^2 "
        f"{_score(r, 'reg', 'skreg_cv'):.3f} against RealMLP-TD's "
        f"{_score(r, 'clf', 'realmlp'):.3f} and {_score(r, 'reg', 'realmlp'):.3f} "
        f"({n_base['clf']} and {n_base['reg']} datasets up to 20,000 rows), at "
        f"{_ratio(r, 'clf', 'skreg_cv', 'realmlp'):.1f}x and "
        f"{_ratio(r, 'reg', 'skreg_cv', 'realmlp'):.1f}x its median fit time |",
        f"| imbalanced classes | a linear model behind SMOTE, or skreg with "
        f"`class_weight='balanced'` | balanced accuracy {_score(d, 'imb', 'linear'):.3f} "
        f"and {_score(d, 'imb', 'skreg_balanced'):.3f}; skreg behind SMOTE "
        f"{_score(d, 'imb', 'skreg'):.3f}, HistGradientBoosting "
        f"{_score(d, 'imb', 'hgb'):.3f} ({n['imb']} datasets) |",
        "| L1 / elastic-net sparsity, dropout, label smoothing, class weights, a GPU, in a "
        "scikit-learn pipeline | skreg | see the user guide |",
        "| a few hundred rows and a pretrained model | TabPFN | not in this benchmark |",
        "| any torch module with these penalties | skorch with `skreg.skorch`'s callbacks | "
        "see the skorch page |",
    ]
    return "\n".join(lines)


def _results(name):
    with open(os.path.join(HERE, "results", name)) as f:
        return json.load(f)


_TASKS = {"clf": "classification", "reg": "regression"}
_FIT_IMPLS = ["skreg", "sklearn", "skorch", "lean torch", "skreg regularized"]


def fit_times(name="fit.json"):
    """``bench_fit.py``'s fit times (best of the repeats) per setting and implementation."""
    lines = ["| setting | " + " | ".join(_FIT_IMPLS) + " |",
             "| --- |" + " --- |" * len(_FIT_IMPLS)]
    for r in _results(name)["results"]:
        lines.append(f"| {r['setting']} {_TASKS[r['task']]} | " + " | ".join(
            f"{r['impls'][i]['best']:.2f} s" for i in _FIT_IMPLS) + " |")
    return "\n".join(lines)


def fit_ratios(name="fit.json"):
    """The ratios of ``bench_fit.py``'s fit times."""
    keys = [("skreg/sklearn", "skreg / sklearn"), ("skreg/skorch", "skreg / skorch"),
            ("skreg/lean torch", "skreg / lean"), ("regularized/skreg", "regularized / skreg")]
    lines = ["| setting | " + " | ".join(k[1] for k in keys) + " |",
             "| --- |" + " --- |" * len(keys)]
    for r in _results(name)["results"]:
        lines.append(f"| {r['setting']} {_TASKS[r['task']]} | " + " | ".join(
            f"{r['ratios'][k]:.2f}x" for k, _ in keys) + " |")
    return "\n".join(lines)


def fit_scores(name="fit.json"):
    """``bench_fit.py``'s test scores, the mean over the repeats."""
    metric = {"clf": "accuracy", "reg": "R^2"}
    lines = ["| setting | " + " | ".join(_FIT_IMPLS) + " |",
             "| --- |" + " --- |" * len(_FIT_IMPLS)]
    for r in _results(name)["results"]:
        lines.append(f"| {r['setting']} {metric[r['task']]} | " + " | ".join(
            f"{r['impls'][i]['score']:.4f}" for i in _FIT_IMPLS) + " |")
    return "\n".join(lines)


def search_times():
    """``bench_search.py``: time, ratio to GridSearchCV and best CV score of each search."""
    d = _results("search.json")["results"]
    rows = [("racing", "CV estimator, racing (default)"),
            ("exhaustive", "CV estimator, `racing=False`"),
            ("gridsearch", "`GridSearchCV(n_jobs=2)`"),
            ("halving", "`HalvingGridSearchCV(n_jobs=2)`")]
    lines = ["| search | clf time | ratio | best CV acc. | reg time | ratio | best CV R^2 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, label in rows:
        cells = []
        for task in ("clf", "reg"):
            r = d[task]
            ratio = "1" if key == "gridsearch" else f"{r['ratio'][key]:.2f}x"
            cells += [f"{r['time'][key]:.2f} s", ratio, f"{r['best_score_' + key]:.4f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def backward_times():
    """``bench_backward.py``: the hand-written pass against autograd."""
    sizes = {"S1": "S1 (16,000 x 50, (256, 256), batch 256)",
             "S2": "S2 (4,000 x 50, (64, 64), batch 32)"}
    lines = ["| setting | members | manual | autograd | autograd / manual |",
             "| --- | --- | --- | --- | --- |"]
    seen = set()
    for r in _results("backward.json")["results"]:
        if r["setting"] not in sizes:
            continue
        setting = r["setting"] if r["setting"] in seen else sizes[r["setting"]]
        seen.add(r["setting"])
        digits = 2 if r["manual_s"] >= 1 else 3
        lines.append(
            f"| {setting} | {r['members']}, {'regularized' if r['regularized'] else 'plain'}"
            f" | {r['manual_s']:.{digits}f} s | {r['autograd_s']:.{digits}f} s | "
            f"{r['ratio']:.2f}x |")
    return "\n".join(lines)


def fit_as_met():
    """skreg / sklearn on a float64 pipeline, a process's first fit and a busy machine."""
    d = _results("fit.json")
    first = {(r["setting"], r["task"]): r for r in d["first_fit"]}
    busy = {(r["setting"], r["task"]): r for r in d["contention"]}
    lines = ["| setting | float64 pipeline | first fit of a process | next to two busy processes |",
             "| --- | --- | --- | --- |"]
    for r in d["results"]:
        key = (r["setting"], r["task"])
        a, b = r["impls"]["skreg float64 pipeline"]["best"], r["impls"][
            "sklearn float64 pipeline"]["best"]
        f = first[key]["impls"]
        c = busy[key]["impls"]
        lines.append(
            f"| {r['setting']} {_TASKS[r['task']]} | {a / b:.2f}x ({a:.2f} s / {b:.2f} s) | "
            f"{first[key]['ratio']:.2f}x ({f['skreg']['seconds']:.2f} s / "
            f"{f['sklearn']['seconds']:.2f} s) | {busy[key]['ratio']:.2f}x "
            f"({c['skreg']['best']:.2f} s / {c['sklearn']['best']:.2f} s) |")
    return "\n".join(lines)


def predict_times():
    """``bench_predict.py``: one row (median) and 100,000 rows (best) against scikit-learn."""
    d = _results("predict.json")
    goals = {("predict", "1 row"): "<= 2x", ("predict", "100k rows"): "<= 1x"}
    lines = ["| call | skreg | scikit-learn | ratio | goal |", "| --- | --- | --- | --- | --- |"]
    for method in ("predict", "predict_proba"):
        for size, stat, label in (("1 row", "median", "1 row (median of {calls:,})"),
                                  ("100k rows", "best", "100,000 rows (best of 3)")):
            a = d["results"][method]["skreg"][size]
            b = d["results"][method]["sklearn"][size]
            unit, scale = ("us", 1e6) if size == "1 row" else ("ms", 1e3)
            digits = 0 if unit == "us" else 1
            lines.append(
                f"| `{method}`, {label.format(calls=a.get('calls', 0))} | "
                f"{a[stat] * scale:.{digits}f} {unit} | {b[stat] * scale:.{digits}f} {unit} | "
                f"{a[stat] / b[stat]:.2f}x | {goals.get((method, size), '')} |")
    return "\n".join(lines)


def memory_ratios():
    """``bench_memory.py``: the peak memory a fit adds, as a multiple of X's size."""
    results = _results("memory.json")["results"]
    by_rows = {}
    for r in results:
        by_rows.setdefault(r["n_samples"], {})[r["input_scaling"]] = r
    lines = ['| rows | `input_scaling="robust"` (default) | `input_scaling=None` |',
             "| --- | --- | --- |"]
    for n, r in sorted(by_rows.items()):
        mib = r["robust"]["X_nbytes"] / 2 ** 20
        extra = {k: v["peak_over_baseline_sampled"] / 2 ** 20 for k, v in r.items()}
        lines.append(f"| {n:,} ({mib:.1f} MiB) | {r['robust']['ratio']:.2f}x "
                     f"(+{extra['robust']:.1f} MiB) | {r[None]['ratio']:.2f}x "
                     f"(+{extra[None]:.1f} MiB) |")
    return "\n".join(lines)


BLOCKS = {
    "memory-ratios": memory_ratios,
    "predict-times": predict_times,
    "fit-times": fit_times,
    "fit-ratios": fit_ratios,
    "fit-times-one-thread": lambda: fit_times("fit_one_thread.json"),
    "fit-ratios-one-thread": lambda: fit_ratios("fit_one_thread.json"),
    "fit-scores-one-thread": lambda: fit_scores("fit_one_thread.json"),
    "search-times": search_times,
    "backward-times": backward_times,
    "fit-as-met": fit_as_met,
    "readme-summary": readme_summary,
    "defaults": lambda: tables("defaults"),
    "cv": lambda: tables("cv"),
    "realmlp": lambda: tables("realmlp", ("hgb", "realmlp")),
    "tabm": lambda: tables("tabm", ("realmlp", "tabm")),
}

_BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)"
                    r"(\n<!-- /figures:(?P=name) -->)", re.S)


def block(name):
    """The text of the block NAME, as the result files give it."""
    return BLOCKS[name]()


def blocks_in(text):
    """``{name: body}`` of the figure blocks in ``text``."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(text)}


def rewrite(text):
    """``text`` with each figure block made anew from the result files."""
    return _BLOCK.sub(lambda m: m.group(1) + block(m["name"]) + m.group(4), text)


def main():
    for doc in DOCUMENTS:
        path = os.path.join(ROOT, doc)
        with open(path) as f:
            text = f.read()
        new = rewrite(text)
        if new != text:
            with open(path, "w") as f:
                f.write(new)
            print(f"{doc}: figures updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

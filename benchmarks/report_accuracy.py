"""One accuracy report from several runs of ``bench_defaults.py``.

The slow baselines (RealMLP-TD, TabM-D) are run once, on their own, while
skreg's columns are run again whenever its defaults change; this script puts
runs on the same folds side by side. Every run must have the same
configuration (row caps, folds, seed), so that the folds are the same; a
label present in several files is taken from the last of them.

Usage::

    python benchmarks/report_accuracy.py benchmarks/results/accuracy/test.json \\
        benchmarks/results/accuracy/test_realmlp.json \\
        --json benchmarks/results/accuracy/test_report.json \\
        --markdown benchmarks/results/accuracy/test.md
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_defaults  # noqa: E402
from _common import save_json  # noqa: E402


def _read(path):
    """A results file, or the payload of a run's ``.jsonl`` journal (a run cut short)."""
    if not path.endswith(".jsonl"):
        with open(path) as f:
            return json.load(f)
    runs, records = bench_defaults.read_journal(path)
    if not runs:
        raise SystemExit(f"{path}: no run header in this journal")
    # the labels of the last run (a resumed run keeps its own labels' records)
    models = runs[-1]["models"]
    records = [r for r in records if r.get("model") in models]
    return {"benchmark": "bench_defaults", "config": runs[-1]["config"], "models": models,
            "datasets": {}, "results": records,
            "notes": [f"{path}: the journal of a run cut short"]}


def combine(paths, keep=None):
    """The payload of several runs' results files, merged in order.

    Parameters
    ----------
    paths : sequence of str
        ``bench_defaults.py --json`` files, or the ``.jsonl`` journal of a run
        cut short; later files' labels replace earlier ones'.
    keep : sequence of str or None, default=None
        Labels to keep (all when None), in this order in the tables.

    Returns
    -------
    dict
        A payload like ``bench_defaults.py``'s, with ``summary`` recomputed.
    """
    payload = None
    for path in paths:
        run = _read(path)
        if payload is None:
            payload = run
            continue
        if not bench_defaults.config_matches(payload.get("config"), run.get("config")):
            raise SystemExit(f"{path}: its config {run.get('config')} differs from "
                             f"{paths[0]}'s {payload.get('config')}")
        payload = bench_defaults._merge(payload, run)
    if keep:
        order = {label: i for i, label in enumerate(keep)}
        payload["models"] = {k: payload["models"][k] for k in keep if k in payload["models"]}
        payload["results"] = sorted(
            (r for r in payload["results"] if r["model"] in order),
            key=lambda r: order[r["model"]])
    per_dataset, aggregate, gaps, labels = bench_defaults.summarize(payload["results"])
    payload["summary"] = {"per_dataset": per_dataset, "aggregate": aggregate, "gaps": gaps}
    return payload


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="+", metavar="FILE", help="results files to combine")
    p.add_argument("--models", nargs="+", metavar="LABEL",
                   help="labels to keep, in table order (default: all)")
    p.add_argument("--json", metavar="OUT", help="write the combined results to OUT")
    p.add_argument("--markdown", metavar="OUT", help="write the tables to OUT")
    args = p.parse_args(argv)
    payload = combine(args.paths, args.models)
    per_dataset, aggregate, gaps = (payload["summary"][k]
                                    for k in ("per_dataset", "aggregate", "gaps"))
    labels = {}
    for r in payload["results"]:
        labels.setdefault(r["group"], {})[r["model"]] = None
    labels = {g: list(m) for g, m in labels.items()}
    bench_defaults.print_tables(per_dataset, aggregate, gaps, labels, payload["datasets"])
    if args.json:
        save_json(args.json, payload)
    if args.markdown:
        bench_defaults.write_markdown(args.markdown, payload, per_dataset, aggregate, gaps,
                                      labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())

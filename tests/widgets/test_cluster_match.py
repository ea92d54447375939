"""A cluster's "≈ segment" in the dashboard names only a segment that stands for the cluster
(Jaccard >= views.strips.MATCH): the core's best match of any overlap is not shown as one."""

from __future__ import annotations

import numpy as np

import errlens as el
from errlens.datasets import load_digits, load_tweets
from errlens.views.strips import MATCH, cluster_payload
from errlens.widgets.segments_view import SegmentsView


def test_text_clusters_name_no_unrelated_annotator_as_their_match():
    """Text clusters of tweets and a random annotator column: the core's best match is some
    annotator at a small Jaccard; the dashboard says nothing rather than "≈ annotator = a"."""
    tweets = load_tweets().sample(1500, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(0)
    frame = tweets[["text"]].assign(annotator=rng.choice(["a", "b", "c"], len(tweets)))
    ev = el.Analysis.from_predictions(
        frame, y_true=tweets["sentiment"], text="text",
        y_pred=rng.choice(sorted(tweets["sentiment"].unique()), len(tweets)),
    ).with_clusters("text", k=4)
    table = ev.clusters().table
    assert table["segment"].str.startswith("annotator = ").all()  # the core names one...
    assert (table["jaccard"] < MATCH).all()  # ...that shares few rows with the cluster
    [payload] = SegmentsView(ev).clusters
    assert [(c["segment"], c["jaccard"]) for c in payload["clusters"]] == [(None, None)] * 4
    assert all(c["terms"] for c in payload["clusters"])  # the clusters are still described


def test_a_cluster_that_is_a_segment_keeps_its_match_and_overlap():
    """Digits, 10 % inverted (and all of those predicted wrong), with an ink feature: the worst
    cluster is exactly the dark images and says so; the others match "light" only loosely."""
    frame, images = load_digits()
    rng = np.random.default_rng(0)
    inverted = rng.random(len(frame)) < 0.1
    images = np.where(inverted[:, None, None], 16 - images, images)
    truth = frame["digit"].to_numpy()
    ink = images.reshape(len(images), -1).mean(axis=1)
    ev = el.Analysis.from_predictions(
        {"ink": np.where(ink > 8, "dark", "light")}, y_true=truth, id=frame["id"],
        y_pred=np.where(inverted, (truth + 1) % 10, truth), images=images,
    ).with_clusters(k=4)
    table = ev.clusters().table
    shown = {c["label"]: (c["segment"], c["jaccard"]) for c in cluster_payload(ev)[0]["clusters"]}
    for label, row in table.iterrows():
        expected = ((row["segment"], round(float(row["jaccard"]), 3))
                    if row["jaccard"] >= MATCH else (None, None))
        assert shown[label] == expected
    assert shown["c1"] == ("ink = dark", 1.0)
    assert sum(s is None for s, _ in shown.values()) >= 1  # loose matches are left out

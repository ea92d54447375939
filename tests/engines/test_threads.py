"""A LazyAnalysis asked from several threads at once (a dashboard's kernel thread beside the
user's cells): DuckDB refuses a second call on a busy connection, so the analysis runs its
queries one at a time and every caller gets its answer."""

from __future__ import annotations

import threading

import errlens as el
from errlens.engines import LazyAnalysis


def test_concurrent_questions_all_get_their_answers(adult_parquet, adult_ev):
    lazy = LazyAnalysis.from_duckdb(adult_parquet, y_true="income", y_pred="pred", id="id",
                                    features=["age", "sex", "education", "hours_per_week"])
    results: dict[int, list] = {}
    failures: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            cohort = el.Cohort.where("age", ">", 30 + i)
            results[i] = [lazy.discover(k=5, max_level=2) if i % 2 else
                          lazy.slices(cohort=cohort) for _ in range(3)]
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    table = results[0][-1]
    expected = adult_ev.slices(["age", "sex"], cohort=el.Cohort.where("age", ">", 30))
    assert sorted(table[table["feature"] == "sex"]["n"]) == sorted(
        expected[expected["feature"] == "sex"]["n"])
    assert len(results[1][0].to_frame()) == 5

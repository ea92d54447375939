# Test fixture for tests/browser/test_marimo.py (not a tutorial): the dashboard in marimo on
# 4,000 rows of UCI Adult with a quick out-of-fold logistic model and a LabelStore whose
# changelog path comes from ERRLENS_E2E_CHANGELOG (a temporary file when unset).
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full")


@app.cell
def _():
    import os
    import tempfile
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    import errlens as el
    from errlens.datasets import load_adult

    adult = load_adult().sample(4000, random_state=0)
    X = adult.drop(columns=["id", "income", "split"])
    numbers = X.select_dtypes("number")
    proba = cross_val_predict(LogisticRegression(max_iter=300),
                              (numbers - numbers.mean()) / numbers.std(), adult["income"],
                              cv=3, method="predict_proba")
    ev = el.Analysis.from_predictions(X, y_true=adult["income"], proba=proba, id=adult["id"],
                                      proba_out_of_fold=True)
    changelog = os.environ.get("ERRLENS_E2E_CHANGELOG") or str(
        Path(tempfile.mkdtemp()) / "labels.changelog.jsonl")
    store = el.LabelStore(ev, changelog, author="e2e")
    return el, ev, store


@app.cell
def _(el, ev, store):
    explorer = el.explore(ev, store)
    explorer
    return (explorer,)


if __name__ == "__main__":
    app.run()

"""Classification: scores counted by hand, labels aligned `horizon` rows after each window, baselines."""

import numpy as np
import pandas as pd
import pytest

from forecast_cli.predictors import ClassPredictor
from forecast_cli.errors import DataError
from forecast_cli.data.frame import Frame, FrameSpec
from forecast_cli.data.labels import Labels, direction_labels, label_classes
from forecast_cli.metrics import class_scores, confusion_matrix, per_class_scores
from forecast_cli.data.windows import Scaler

ACTUAL = np.array([0, 0, 0, 1, 1, 2])
PREDICTED = np.array([0, 0, 1, 1, 2, 2])


def test_confusion_matrix_rows_are_actual_and_columns_predicted() -> None:
    assert confusion_matrix(PREDICTED, ACTUAL, 4).tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


def test_class_scores_match_hand_counts_and_skip_absent_classes() -> None:
    scores = class_scores(PREDICTED, ACTUAL, 4)  # class 3 neither occurs nor is predicted
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert scores["macro_f1"] == pytest.approx((4 / 5 + 2 / 4 + 2 / 3) / 3)


def test_per_class_scores_leave_undefined_precision_empty() -> None:
    rows = per_class_scores(np.array([0, 0]), np.array([0, 1]), ["a", "b"])
    assert rows[0] == {"class": "a", "precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert rows[1]["precision"] is None and rows[1]["recall"] == 0.0 and rows[1]["support"] == 1


def _frame(column: str, values, labels: Labels | None = None) -> Frame:
    data = pd.DataFrame({column: np.asarray(values, dtype="float64")})
    return Frame(data, FrameSpec(column, (), (column,)), None, [], labels=labels)


@pytest.mark.parametrize("horizon, expected", [(1, [-1, 1, 0, 0, 1]), (2, [-1, -1, 1, 0, 1])])
def test_direction_label_is_up_only_when_the_value_horizon_rows_later_is_higher(horizon: int, expected: list) -> None:
    labels = direction_labels(_frame("close", [1, 3, 2, 2, 5]), horizon, "close_direction")
    assert labels.codes.tolist() == expected  # equal values count as down
    assert labels.classes == ["down", "up"] and labels.derived_from == "close"


def test_label_classes_keep_ints_as_ints_and_text_as_text() -> None:
    assert label_classes(pd.DataFrame({"y": [1.0, 0.0, 1.0]}), "y", "f.csv") == [0, 1]
    assert label_classes(pd.DataFrame({"y": ["pos", "neg ", "pos"]}), "y", "f.csv") == ["neg", "pos"]


def test_blank_label_is_refused_naming_its_line() -> None:
    with pytest.raises(DataError, match="label column 'y' is blank on line 3"):
        label_classes(pd.DataFrame({"y": ["a", None, "b"]}), "y", "f.csv")


def _alternating_backtest(horizon: int, logits: list[float]):
    """Labels 0, 1, 0, 1, ... and a model that always gives the same logits."""
    codes = np.arange(30) % 2
    frame = _frame("label", codes, Labels(codes, [0, 1], "label"))
    predictor = ClassPredictor(lambda batch: np.tile(logits, (len(batch), 1)), Scaler.fit(codes[:, None] * 1.0),
                               window=4, horizon=horizon, classes=[0, 1], majority=0)
    return predictor.backtest(frame, np.arange(4, 30 - horizon + 1), None, 0.0)


@pytest.mark.parametrize("horizon, persistence", [(1, 0.0), (2, 1.0)])
def test_persistence_compares_the_last_label_with_the_one_horizon_rows_ahead(horizon: int, persistence: float) -> None:
    result = _alternating_backtest(horizon, [0.0, 1.0]).result
    assert result["baselines"]["persistence"]["accuracy"] == persistence


def test_window_is_scored_against_the_label_horizon_rows_after_its_last_row() -> None:
    tested = _alternating_backtest(1, [0.0, 3.0])  # always class 1
    assert tested.actual.tolist() == (np.arange(4, 30) % 2).tolist()  # origin t: the label of row t
    assert tested.result["metrics"]["accuracy"] == 0.5
    assert tested.result["baselines"]["majority"]["accuracy"] == 0.5
    np.testing.assert_allclose(tested.predicted.sum(axis=1), 1.0)
    assert tested.predicted[0, 1] == pytest.approx(np.exp(3) / (1 + np.exp(3)))

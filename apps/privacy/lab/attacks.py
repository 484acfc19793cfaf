"""The attacks, their ground truth and their scores against chance.

Each attack turns every home's view into units with a label and detector scores:

- occupancy (home-jacking): per 15-minute slot from 07:00 to 22:00 local on ordinary days
  (not during a multi-day absence, which is the next attack): is anyone home?
  Detectors: NIOM-style (the load's spread and level above the home's quiet level, held
  for half an hour), GeoMA-style (changes found by a geometric moving average), and a
  gradient-boosted classifier on windowed features.
- absence (home-jacking): per day, is the home empty all day (a multi-day absence)?
- appliance (unsolicited advertising): per home, day and appliance (EV charger, heat pump,
  electric heating, dishwasher, washing machine), did it run that day? A home without
  the appliance never runs it, so ownership is inferred too. Classifier per appliance.
- routine (surveillance): per 15-minute slot from 05:00 to midnight on ordinary days, does
  a routine event (waking, breakfast, lunch, dinner, going to bed) happen within 30
  minutes of the slot? Scored as slot classification.

Every detector is fitted (classifier) or has its cut-off chosen (rules) on half the homes
and scored on the other half, then the halves swap (two-fold cross-fitting): the attacker
learns from homes it knows and attacks homes it does not. The attacker's detector is the
one that did best on its training homes. A view without data gives a constant score:
balanced accuracy 0.5, MCC 0, AUC 0.5, exactly chance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, matthews_corrcoef, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from apps.privacy.lab.features import Layout, day_features, minutes_of, points_of, slot_features
from apps.privacy.lab.households import APPLIANCES, AWAY, Household
from apps.privacy.lab.platform import View

ATTACKS = ("occupancy", "absence", "appliance", "routine")
ROUTINE_TOLERANCE_MIN = 30


@dataclass
class Units:
    """One home's units for one attack: features, labels, and the rules' scores."""

    features: pd.DataFrame
    labels: np.ndarray
    rules: dict[str, np.ndarray] = field(default_factory=dict)
    group: np.ndarray | None = None  # the appliance of each unit (one model per appliance)


def _slot_truth(home: Household) -> np.ndarray:
    state = home.state[: home.state.size // 15 * 15].reshape(-1, 15)
    return (state != AWAY).mean(axis=1) >= 0.5


def _ordinary(home: Household, layout: Layout) -> np.ndarray:
    return ~home.absent_day[layout.slot_day]


def occupancy_units(home: Household, view: View) -> Units:
    layout = Layout.of(home)
    slots = layout.slot_day.size
    frame = slot_features(minutes_of(view, home), slots, points_of(view, home, slots))
    keep = _ordinary(home, layout) & (layout.slot_hour >= 7) & (layout.slot_hour < 22)
    frame = frame[keep].reset_index(drop=True)
    rules = {}
    if "level" in frame:
        rules["niom"] = (frame["spread_max_2"] + frame["level_mean_2"]).to_numpy()
        rules["geoma"] = frame["changes_sum_2"].to_numpy()
    return Units(frame, _slot_truth(home)[keep], rules)


def absence_units(home: Household, view: View) -> Units:
    layout = Layout.of(home)
    frame = day_features(minutes_of(view, home), home, layout)
    rules = {}
    if "energy" in frame:
        rules["low_energy"] = -frame["energy"].to_numpy()
        rules["inactive"] = -frame["active"].to_numpy()
    return Units(frame, home.absent_day.copy(), rules)


def appliance_units(home: Household, view: View) -> Units:
    layout = Layout.of(home)
    days = day_features(minutes_of(view, home), home, layout)
    frames, labels, groups = [], [], []
    for name in APPLIANCES:
        frames.append(days)
        labels.append([home.appliance_on[name][home.day_span(d)].any() for d in range(layout.days)])
        groups.append(np.full(layout.days, name))
    return Units(
        pd.concat(frames, ignore_index=True), np.concatenate(labels), group=np.concatenate(groups)
    )


def _routine_truth(home: Household, layout: Layout) -> np.ndarray:
    near = np.zeros(layout.slot_day.size, bool)
    for day, _event, minute in home.events:
        at = home.day_offsets[day] + minute
        first = max((at - ROUTINE_TOLERANCE_MIN) // 15, 0)
        near[first : (at + ROUTINE_TOLERANCE_MIN) // 15 + 1] = True
    return near


def routine_units(home: Household, view: View) -> Units:
    layout = Layout.of(home)
    slots = layout.slot_day.size
    frame = slot_features(minutes_of(view, home), slots, points_of(view, home, slots))
    keep = _ordinary(home, layout) & (layout.slot_hour >= 5)
    frame = frame[keep].reset_index(drop=True)
    rules = {}
    if "rise" in frame:
        rules["onset"] = (frame["rise"].clip(lower=0) + frame["fall"].clip(lower=0)).to_numpy()
    return Units(frame, _routine_truth(home, layout)[keep], rules)


UNITS: dict[str, Callable[[Household, View], Units]] = {
    "occupancy": occupancy_units,
    "absence": absence_units,
    "appliance": appliance_units,
    "routine": routine_units,
}


# Scoring --------------------------------------------------------------------------------


@dataclass
class Score:
    balanced_accuracy: float
    mcc: float
    auc: float | None
    n: int
    positives: int


def score(labels: np.ndarray, scores: np.ndarray, predicted: np.ndarray) -> Score:
    labels = labels.astype(bool)
    both = 0 < labels.sum() < labels.size
    return Score(
        balanced_accuracy=float(balanced_accuracy_score(labels, predicted)) if both else 0.5,
        mcc=float(matthews_corrcoef(labels, predicted)),
        auc=float(roc_auc_score(labels, scores)) if both else None,
        n=int(labels.size),
        positives=int(labels.sum()),
    )


def _mcc_per_cutoff(labels: np.ndarray, scores: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    """MCC of `scores >= c` for every cut-off c at once: sklearn's matthews_corrcoef
    validates its input on every call, which costs more than the counting itself."""
    predicted = scores[None, :] >= cutoffs[:, None]
    tp = (predicted & labels).sum(axis=1).astype(float)
    fp = (predicted & ~labels).sum(axis=1).astype(float)
    fn = labels.sum() - tp
    tn = (~labels).sum() - fp
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.divide(tp * tn - fp * fn, denominator, out=np.zeros_like(tp), where=denominator > 0)


def best_cutoff(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The cut-off with the best MCC on the training homes, and that MCC (constant scores:
    no cut, MCC 0)."""
    candidates = np.unique(np.quantile(scores, np.linspace(0.02, 0.98, 49)))
    if candidates.size < 2:
        return float("inf"), 0.0
    mccs = _mcc_per_cutoff(labels.astype(bool), scores, candidates)
    best = int(np.argmax(mccs))
    return float(candidates[best]), float(mccs[best])


def _classifier_scores(train: list[Units], test: list[Units]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities on the training and test units; one model per appliance group."""
    x_train = pd.concat([u.features for u in train], ignore_index=True)
    y_train = np.concatenate([u.labels for u in train]).astype(bool)
    x_test = pd.concat([u.features for u in test], ignore_index=True)
    g_train = _groups(train, len(x_train))
    g_test = _groups(test, len(x_test))
    fitted, scored = np.full(len(x_train), 0.5), np.full(len(x_test), 0.5)
    for group in np.unique(g_train):
        rows, target = g_train == group, g_test == group
        if "none" in x_train or len(np.unique(y_train[rows])) < 2:
            continue  # nothing to learn from: the prior
        # A linear model on the log-scaled features: on this 2-core box a boosted tree
        # costs seconds per fit, and it scored within a few points of this one.
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=500)
        )
        model.fit(x_train[rows], y_train[rows])
        fitted[rows] = model.predict_proba(x_train[rows])[:, 1]
        if target.any():
            scored[target] = model.predict_proba(x_test[target])[:, 1]
    return fitted, scored


def _groups(units: list[Units], size: int) -> np.ndarray:
    if units and units[0].group is not None:
        return np.concatenate([u.group for u in units if u.group is not None])
    return np.full(size, "all")


@dataclass
class Fold:
    train: list[Units]
    test: list[Units]


def evaluate(units: list[Units]) -> tuple[str, Score, dict[str, Score]]:
    """Two-fold cross-fitting over the homes; returns the attacker's detector and scores."""
    half = len(units) // 2
    folds = [Fold(units[:half], units[half:]), Fold(units[half:], units[:half])]
    names = ["classifier", *units[0].rules]
    train_mcc = {name: 0.0 for name in names}
    test_scores: dict[str, list[np.ndarray]] = {name: [] for name in names}
    test_predicted: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for fold in folds:
        y_train = np.concatenate([u.labels for u in fold.train]).astype(bool)
        fitted, scored = _classifier_scores(fold.train, fold.test)
        pairs = {"classifier": (fitted, scored)}
        for name in units[0].rules:
            pairs[name] = (
                np.concatenate([u.rules[name] for u in fold.train]),
                np.concatenate([u.rules[name] for u in fold.test]),
            )
        for name, (on_train, on_test) in pairs.items():
            cutoff, fitted_mcc = best_cutoff(y_train, on_train)
            train_mcc[name] += fitted_mcc / len(folds)
            test_scores[name].append(on_test)
            test_predicted[name].append(on_test >= cutoff)
    labels = np.concatenate([u.labels for fold in folds for u in fold.test])
    by_detector = {
        name: score(labels, np.concatenate(test_scores[name]), np.concatenate(test_predicted[name]))
        for name in names
    }
    chosen = max(names, key=lambda name: train_mcc[name])
    return chosen, by_detector[chosen], by_detector


def run_attack(attack: str, homes: list[Household], views: list[View]) -> dict[str, object]:
    units = [UNITS[attack](home, view) for home, view in zip(homes, views, strict=True)]
    detector, chosen, by_detector = evaluate(units)
    return {
        "balanced_accuracy": round(chosen.balanced_accuracy, 3),
        "mcc": round(chosen.mcc, 3),
        "auc": None if chosen.auc is None else round(chosen.auc, 3),
        "n": chosen.n,
        "positives": chosen.positives,
        "detector": detector,
        "detectors": {name: round(s.mcc, 3) for name, s in by_detector.items()},
    }

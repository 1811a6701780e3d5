#!/usr/bin/python3
"""Golden file for mlip.eval.Metrics: fixed inputs from a seeded numpy RNG and the values scikit-learn
(Debian's python3-sklearn) gives for them, written as mlip/src/test/resources/golden/metrics.json.
JUnit (MetricsGoldenTest) reads it and asserts every value to 1e-6. Run from the repository root:

    apt-get install python3-sklearn && /usr/bin/python3 tools/reference/make_metrics_golden.py

Accuracy, F1 (macro / weighted / binary, zero_division=0), confusion matrices and ROC AUC come from
sklearn.metrics. Dice and recall@k have no sklearn function; they are computed below in plain numpy, from
their definitions (see dice() and recall_at_k()). The inputs hold deliberate edge cases: tied scores across
the two classes, a class that is never predicted, a class absent from both truth and prediction, an
all-empty mask pair, and tied similarities in recall@k.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score
from sklearn.preprocessing import label_binarize

OUT = os.path.join("mlip", "src", "test", "resources", "golden", "metrics.json")
rng = np.random.default_rng(20240611)


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


# ---------------------------------------------------------------- classification (accuracy, F1, confusion)

def classification(name, truth, pred, classes):
    labels = list(range(classes))  # every class 0..classes-1 counts, even one absent from truth and pred
    return dict(
        name=name, classes=classes, truth=ints(truth), pred=ints(pred),
        accuracy=float(accuracy_score(truth, pred)),
        f1_macro=float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0)),
        f1_weighted=float(f1_score(truth, pred, labels=labels, average="weighted", zero_division=0)),
        confusion=confusion_matrix(truth, pred, labels=labels).tolist())


truth = rng.integers(0, 4, 40)
pred = np.where((rng.random(40) < 0.6) & (truth < 3), truth, rng.integers(0, 3, 40))  # class 3 is never predicted
assert 3 not in pred and 3 in truth
truth5 = rng.integers(0, 4, 30)  # 5 classes, class 4 absent from truth and pred
pred5 = np.where(rng.random(30) < 0.5, truth5, rng.integers(0, 4, 30))
CLASSIFICATION = [classification("4 classes, class 3 never predicted", truth, pred, 4),
                  classification("5 classes, class 4 absent everywhere", truth5, pred5, 5)]


def binary(name, truth, pred):
    return dict(name=name, truth=ints(truth), pred=ints(pred),
                f1=float(f1_score(truth, pred, pos_label=1, average="binary", zero_division=0)))


bt = rng.integers(0, 2, 30)
bp = np.where(rng.random(30) < 0.7, bt, 1 - bt)
BINARY = [binary("random", bt, bp),
          binary("no positive predicted or true (zero_division=0)", np.zeros(6, int), np.zeros(6, int)),
          binary("no positive predicted", np.array([0, 1, 1, 0]), np.zeros(4, int))]


# ---------------------------------------------------------------- ROC AUC (binary, one-vs-rest)

def auc_case(name, truth, score):
    return dict(name=name, truth=ints(truth), score=floats(score), roc_auc=float(roc_auc_score(truth, score)))


at = rng.integers(0, 2, 40)
a_score = np.round(at * 0.3 + rng.random(40), 1)  # one decimal: many ties, across the two classes too
AUC = [auc_case("continuous, 3 decimals", at, np.round(at * 0.5 + rng.random(40), 3)),
       auc_case("rounded to 0.1, ties across classes", at, a_score),
       auc_case("three score levels only", at, rng.integers(0, 3, 40) / 2.0),
       auc_case("all scores equal", np.array([0, 1, 1, 0, 1]), np.full(5, 0.25)),
       auc_case("perfect, inverted", np.array([1, 1, 0, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4, 0.5]))]

mt = rng.integers(0, 4, 40)
m_raw = rng.random((40, 4)) + 0.3 * np.eye(4)[mt]
m_scores = np.round(m_raw / m_raw.sum(1, keepdims=True), 2)  # rows ~ probabilities; 2 decimals -> ties
onehot = label_binarize(mt, classes=list(range(4)))  # (n, classes); needs classes >= 3 (2 gives one column)
AUC_OVR = dict(name="4 classes one-vs-rest", classes=4, truth=ints(mt), scores=m_scores.tolist(),
               per_class=floats(roc_auc_score(onehot, m_scores, average=None)),
               macro=float(roc_auc_score(onehot, m_scores, average="macro")))


# ---------------------------------------------------------------- Dice (numpy, from the definition)

def dice(p, t):
    """2|A n B| / (|A| + |B|) per image; 1.0 when both masks are empty."""
    s = p.sum() + t.sum()
    return 1.0 if s == 0 else 2.0 * np.logical_and(p, t).sum() / s


masks_t = rng.random((6, 64)) < 0.3
masks_p = np.logical_xor(masks_t, rng.random((6, 64)) < 0.15)
masks_t[4] = masks_p[4] = False  # both empty -> 1
masks_p[5] = False               # prediction empty, truth not -> 0
per_image = [dice(p, t) for p, t in zip(masks_p, masks_t)]
DICE = dict(preds=[ints(m) for m in masks_p], truths=[ints(m) for m in masks_t],
            per_image=floats(per_image), mean=float(np.mean(per_image)))


# ---------------------------------------------------------------- recall@k (numpy, from the definition)

def recall_at_k(sim, correct, k):
    """Fraction of queries whose correct candidate ranks < k; ties count against it (pessimistic):
    rank = number of other candidates with a score >= the correct one's."""
    c = sim[np.arange(len(sim)), correct]
    rank = (sim >= c[:, None]).sum(1) - 1
    return float(np.mean(rank < k))


KS = [1, 2, 5, 10]
sim = np.round(rng.normal(size=(12, 20)), 1)  # one decimal: ties
correct = rng.integers(0, 20, 12)
sim[np.arange(12), correct] += 1.5
sim = np.round(sim, 1)
sim[0, :] = sim[0, correct[0]]  # query 0: every candidate tied with the correct one -> rank 19
sq = np.round(rng.normal(size=(10, 10)) + 1.0 * np.eye(10), 1)
RECALL = dict(sim=sim.tolist(), correct=ints(correct),
              recall={str(k): recall_at_k(sim, correct, k) for k in KS},
              square_sim=sq.tolist(),
              square_recall={str(k): recall_at_k(sq, np.arange(10), k) for k in KS})


def dump(obj, indent=0):
    """JSON with one line per list of numbers, so the file reads like the arrays it holds."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        return "{\n" + ",\n".join(f"{inner}{json.dumps(k)}: {dump(v, indent + 1)}" for k, v in obj.items()) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and isinstance(obj[0], (dict, list)):
        return "[\n" + ",\n".join(inner + dump(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)


doc = dict(generator="tools/reference/make_metrics_golden.py",
           versions=dict(sklearn=sklearn.__version__, numpy=np.__version__),
           classification=CLASSIFICATION, binary=BINARY, auc=AUC, auc_ovr=AUC_OVR, dice=DICE, recall_at_k=RECALL)
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    f.write(dump(doc) + "\n")
print("wrote", OUT, os.path.getsize(OUT), "bytes")

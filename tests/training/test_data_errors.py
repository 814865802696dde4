"""Bad data fails before any step, with a message that names the problem and the fix."""

import numpy as np
import pytest
from data_sources_cases import BATCH, X, Y, fresh

import callax as keras


def _untrained(model):
    assert model._trainer.steps.trace_counts["train"] == 0


@pytest.mark.parametrize("bad", [-4, 0, 2.5, "8", True])
def test_batch_size_must_be_a_positive_integer(bad):
    model = fresh()
    expected = rf"batch_size must be a positive integer.*received batch_size={bad!r}"
    with pytest.raises(ValueError, match=r"predict: " + expected):
        model.predict(X[:16], batch_size=bad, verbose=0)
    with pytest.raises(ValueError, match=r"fit: " + expected):
        model.fit(X, Y, batch_size=bad, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: " + expected):
        model.evaluate(X, Y, batch_size=bad, verbose=0)
    _untrained(model)


def test_x_none():
    model = fresh()
    with pytest.raises(ValueError, match=r"fit: x is None.*received x=None"):
        model.fit(None, Y, verbose=0)
    with pytest.raises(ValueError, match=r"fit: x is None"):
        model.fit(None, Y, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"predict: x is None"):
        model.predict(None, verbose=0)


def test_batches_without_targets_for_a_model_with_a_loss():
    model = fresh()
    x_only = (X[i : i + BATCH] for i in range(0, len(X), BATCH))
    with pytest.raises(ValueError, match=r"fit: .*compiled with a loss.*no targets.*\(x, y\)"):
        model.fit(x_only, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: .*no targets"):
        model.evaluate(iter([(X[:8],), (X[8:16],)]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: .*no targets.*pass y="):
        model.fit(X, verbose=0)
    _untrained(model)
    # predict needs no targets
    out = model.predict((X[i : i + BATCH] for i in range(0, 16, BATCH)), verbose=0)
    assert out.shape == (16, 1)


def test_zero_samples():
    model = fresh()
    with pytest.raises(ValueError, match=r"fit: x has 0 samples.*shape \(0, 4\)"):
        model.fit(X[:0], Y[:0], verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: x has 0 samples"):
        model.evaluate(X[:0], Y[:0], verbose=0)
    with pytest.raises(ValueError, match=r"predict: x has 0 samples"):
        model.predict(X[:0], verbose=0)
    with pytest.raises(ValueError, match=r"has 0 samples"):
        model.fit(iter([(X[:0], Y[:0])]), verbose=0)
    _untrained(model)


def test_ragged_nested_list():
    model = fresh()
    ragged = [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match=r"x is a ragged nested list: x\[1\] has 3 values but "
                                         r"x\[0\] has 4.*pad_sequences.*numpy array"):  # fmt: skip
        model.fit(ragged, Y[:2], verbose=0)
    deep = [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]]
    with pytest.raises(ValueError, match=r"x\[1\]\[1\] has 1 values but x\[1\]\[0\] has 2"):
        model.predict(deep, verbose=0)
    with pytest.raises(ValueError, match=r"x\['a'\] is a ragged"):
        model.predict({"a": [[1.0], [2.0, 3.0]]}, verbose=0)
    # rows of one length are one array, as before
    assert model.predict([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]], verbose=0).shape == (2, 1)


def test_string_labels_with_a_sparse_loss_say_how_to_encode_them():
    model = fresh(loss="sparse_categorical_crossentropy", sample=X[:2])
    labels = np.array(["cat", "dog"] * 20)
    for y in (labels, labels.astype(object)):
        with pytest.raises(ValueError, match=r"fit: y holds strings \(e.g. \['cat', 'dog'\]\).*"
                                             r"StringLookup"):  # fmt: skip
            model.fit(X, y, verbose=0)
    _untrained(model)
    # the advice works
    lookup = keras.layers.StringLookup(num_oov_indices=0)
    lookup.adapt(labels)
    ids = np.asarray(lookup(labels))
    assert set(ids.tolist()) == {0, 1}


def test_class_weight_must_map_class_ids_to_numbers():
    model = fresh(loss="sparse_categorical_crossentropy")
    y = np.arange(len(X)) % 2
    with pytest.raises(ValueError, match=r"class_weight must be a dict.*received a list"):
        model.fit(X, y, class_weight=[1.0, 2.0], verbose=0)
    with pytest.raises(ValueError, match=r"class_weight values must be numbers; received 'x'"):
        model.fit(X, y, class_weight={0: 1.0, 1: "x"}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight keys must be class ids"):
        model.fit(X, y, class_weight={"cat": 1.0}, verbose=0)


def test_empty_stream_and_targets_given_beside_a_stream():
    model = fresh()
    with pytest.raises(ValueError, match=r"fit: the generator produced no batches"):
        model.fit((b for b in []), verbose=0)
    with pytest.raises(ValueError, match=r"x is a generator.*`y` must not be given"):
        model.fit(((X, Y) for _ in range(2)), Y, verbose=0)

"""The main demo: the seed's three models trained on handwritten digits.

scikit-learn's bundled 8x8 digits (1,797 images, no download) are split into
train and test sets; each of the seed's subclassed models is compiled and
trained with ``fit`` (progress bar, validation split, early stopping), then
evaluated on the held-out images.

Run: python examples/demo.py
"""

import os
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed"))

from example1_sequential import SimpleSequentialModel  # noqa: E402
from example2_conditional import ConditionalModel  # noqa: E402
from example3_multi_input import MultiInputModel  # noqa: E402

import callax as keras  # noqa: E402

keras.utils.set_random_seed(0)
digits = load_digits()
x = (digits.data / 16.0).astype("float32")  # 64 pixels in [0, 1]
y = digits.target.astype("int32")
order = np.random.permutation(len(x))
x, y = x[order], y[order]
x_train, y_train, x_test, y_test = x[:1500], y[:1500], x[1500:], y[1500:]


def train(title, model, inputs_train, inputs_test, epochs):
    print(f"\n== {title}")
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(
        inputs_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )  # fmt: skip
    loss, accuracy = model.evaluate(inputs_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f}  (loss {loss:.4f}, {time.time() - start:.1f}s)")
    return accuracy


results = {
    "1 SimpleSequentialModel": train("example 1: SimpleSequentialModel (Dense 64 -> 10)",
                                     SimpleSequentialModel(), x_train, x_test, 15),
    "2 ConditionalModel": train("example 2: ConditionalModel (dropout while training)",
                                ConditionalModel(), x_train, x_test, 30),
    # example 3 takes two inputs: the top and bottom halves of each image, both fed
    # through the same (shared) Dense layer; a tuple x fills call(inputs1, inputs2).
    "3 MultiInputModel": train("example 3: MultiInputModel (two image halves, shared Dense)",
                               MultiInputModel(), (x_train[:, :32], x_train[:, 32:]),
                               (x_test[:, :32], x_test[:, 32:]), 25),
}  # fmt: skip
print("\n== summary (test accuracy on 297 unseen digits)")
for name, accuracy in results.items():
    print(f"  example {name:<24} {accuracy:.4f}")
assert min(results.values()) >= 0.95, results

"""The main demo: the seed's three models, seen from inside, then trained on digits.

scikit-learn's bundled 8x8 digits (1,797 images, no download) are split into
train and test sets. Before training, each of the seed's subclassed models shows
its call trace (``callax.trace``: which layer ran, on what shapes, which weights
each call built or shared); for example 2 the trace with ``training=True`` is
compared with ``training=False`` (the Python ``if training:`` at work). Each
model is then compiled and trained with ``fit`` (progress bar, validation split,
early stopping) and evaluated on the held-out images. At the end, example 3 is
profiled per call site and written as one HTML page to browse (the tree,
activation statistics, graph and profile), whose path is printed.

Run: python examples/demo.py [folder for the HTML page; default: a temp folder]
"""

import os
import sys
import tempfile
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


def show_call(model, inputs):
    """The model's call tree on one batch (it also builds the model)."""
    print(keras.trace(model, *inputs))


def train(title, model, inputs_train, inputs_test, epochs, sample):
    print(f"\n== {title}")
    show_call(model, sample)
    if isinstance(model, ConditionalModel):
        # The `if training:` branch, seen as a difference between two call trees.
        train_call = keras.trace(model, *sample, training=True, flops=False)
        print("\ntraining=True vs training=False:")
        print(train_call.diff(keras.trace(model, *sample, training=False, flops=False)))
    print()
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


batch = x_train[:32]
model3 = MultiInputModel()
results = {
    "1 SimpleSequentialModel": train("example 1: SimpleSequentialModel (Dense 64 -> 10)",
                                     SimpleSequentialModel(), x_train, x_test, 15, (batch,)),
    "2 ConditionalModel": train("example 2: ConditionalModel (dropout while training)",
                                ConditionalModel(), x_train, x_test, 30, (batch,)),
    # example 3 takes two inputs: the top and bottom halves of each image, both fed
    # through the same (shared) Dense layer; a tuple x fills call(inputs1, inputs2).
    "3 MultiInputModel": train("example 3: MultiInputModel (two image halves, shared Dense)",
                               model3, (x_train[:, :32], x_train[:, 32:]),
                               (x_test[:, :32], x_test[:, 32:]), 25,
                               (batch[:, :32], batch[:, 32:])),
}  # fmt: skip
print("\n== summary (test accuracy on 297 unseen digits)")
for name, accuracy in results.items():
    print(f"  example {name:<24} {accuracy:.4f}")
assert min(results.values()) >= 0.95, results

# Where the time of a call goes, per call site (slowest first), and one page to browse it.
halves = (x_test[:256, :32], x_test[:256, 32:])
print("\n== example 3, profiled per call site (256 test images)")
report = keras.profile(model3, *halves)
print(report)
folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "callax_demo")
page = keras.show(model3, *halves, profile=report, path=os.path.join(folder, "example3.html"))
print(f"\ncall page (tree, activation statistics, graph, profile; opens offline): {page.path}")

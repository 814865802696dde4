"""Seed example 2: Python `if training:` inside call.

`training` given to `model(...)` reaches `call`; with no argument the default
(False) applies, so dropout runs only when asked for.
Run: python examples/seed/example2_conditional.py
"""

import callax as keras


class ConditionalModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(32, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")
        self.dropout = keras.layers.Dropout(0.5)

    def call(self, inputs, training=False):
        x = self.dense1(inputs)
        if training:
            x = self.dropout(x)  # Apply dropout only during training
        return self.dense2(x)


if __name__ == "__main__":
    model = ConditionalModel()
    train_outputs = model(keras.random.normal((32, 32)), training=True)
    inference_outputs = model(keras.random.normal((32, 32)), training=False)
    print(train_outputs.shape, inference_outputs.shape)

"""Seed example 3: several input tensors, one Dense layer used twice.

`model(inputs1, inputs2)` passes both tensors to `call`; `self.dense1` applied to
each shares one kernel and one bias.
Run: python examples/seed/example3_multi_input.py
"""

import callax as keras


class MultiInputModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(16, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")
        self.concat = keras.layers.Concatenate()

    def call(self, inputs1, inputs2):
        x1 = self.dense1(inputs1)
        x2 = self.dense1(inputs2)  # Sharing weights is intentional here for simplicity
        merged = self.concat([x1, x2])
        return self.dense2(merged)


if __name__ == "__main__":
    model = MultiInputModel()
    inputs1 = keras.random.normal((32, 16))
    inputs2 = keras.random.normal((32, 16))
    outputs = model(inputs1, inputs2)
    print(outputs.shape, len(model.trainable_weights))

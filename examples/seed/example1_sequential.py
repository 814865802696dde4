"""Seed example 1: a simple sequential model written as a subclass.

`model(inputs)` runs the base class's __call__, which builds both Dense layers
from the first input's shape and then runs `call`.
Run: python examples/seed/example1_sequential.py
"""

import callax as keras


class SimpleSequentialModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(64, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")

    def call(self, inputs):
        x = self.dense1(inputs)
        return self.dense2(x)


if __name__ == "__main__":
    model = SimpleSequentialModel()
    inputs = keras.random.normal((32, 32))  # Batch of 32, 32-dimensional inputs
    outputs = model(inputs)
    print(outputs.shape)  # Output shape will be (32, 10)

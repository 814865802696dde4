"""Models for the capture / intervene / hooks / find_nonfinite tests: the seed's
three models live in examples/seed; these are the deeper ones (a residual CNN
with BatchNormalization, a transformer block with MultiHeadAttention)."""

import callax as keras
from callax import ops


class ResBlock(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(filters, 3, padding="same")
        self.bn = keras.layers.BatchNormalization()
        self.conv2 = keras.layers.Conv2D(filters, 3, padding="same")

    def call(self, x, training=False):
        h = ops.relu(self.bn(self.conv1(x), training=training))
        return ops.relu(x + self.conv2(h))


class ResCNN(keras.Model):
    def __init__(self, classes=3):
        super().__init__()
        self.stem = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
        self.blocks = [ResBlock(4), ResBlock(4)]
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(classes)

    def call(self, x, training=False):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h, training=training)
        return self.head(self.pool(h))


class TransformerBlock(keras.Model):
    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.att = keras.layers.MultiHeadAttention(heads, dim // heads)
        self.ln1 = keras.layers.LayerNormalization()
        self.ffn1 = keras.layers.Dense(2 * dim, activation="relu")
        self.ffn2 = keras.layers.Dense(dim)
        self.ln2 = keras.layers.LayerNormalization()

    def call(self, x):
        h = self.ln1(x + self.att(x, x))
        return self.ln2(h + self.ffn2(self.ffn1(h)))

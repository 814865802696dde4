"""Deeper models for the profile and HTML-page tests: a residual CNN block and a
small transformer block, both subclassed, with nested layers and a shared one."""

import numpy as np

import callax as keras


class ResidualBlock(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(filters, 3, padding="same")
        self.bn1 = keras.layers.BatchNormalization()
        self.conv2 = keras.layers.Conv2D(filters, 3, padding="same")
        self.bn2 = keras.layers.BatchNormalization()
        self.add = keras.layers.Add()

    def call(self, x, training=False):
        h = keras.ops.relu(self.bn1(self.conv1(x), training=training))
        h = self.bn2(self.conv2(h), training=training)
        return keras.ops.relu(self.add([x, h]))


class ResidualCNN(keras.Model):
    def __init__(self):
        super().__init__()
        self.stem = keras.layers.Conv2D(8, 3, padding="same", activation="relu")
        self.block1 = ResidualBlock(8)
        self.block2 = ResidualBlock(8)
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(10)

    def call(self, x, training=False):
        x = self.stem(x)
        x = self.block1(x, training=training)
        x = self.block2(x, training=training)
        return self.head(self.pool(x))


class TransformerBlock(keras.layers.Layer):
    def __init__(self, dim, heads, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(heads, dim // heads)
        self.norm1 = keras.layers.LayerNormalization()
        self.ffn1 = keras.layers.Dense(dim * 2, activation="relu")
        self.ffn2 = keras.layers.Dense(dim)
        self.norm2 = keras.layers.LayerNormalization()
        self.dropout = keras.layers.Dropout(0.1)

    def call(self, x, training=False):
        h = self.norm1(x + self.dropout(self.attention(x, x), training=training))
        return self.norm2(h + self.ffn2(self.ffn1(h)))


class TinyTransformer(keras.Model):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = keras.layers.Embedding(vocab, dim)
        self.block = TransformerBlock(dim, 2)
        self.out = keras.layers.Dense(vocab)

    def call(self, ids, training=False):
        return self.out(self.block(self.embed(ids), training=training))


def images(n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 8, 8, 3)).astype("float32")


def tokens(n=2, length=6, seed=0):
    return np.random.default_rng(seed).integers(0, 50, size=(n, length)).astype("int32")

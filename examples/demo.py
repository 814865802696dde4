"""The main demo: the seed's three models, run through callax.

Run: python examples/demo.py
"""

from seed.example1_sequential import SimpleSequentialModel
from seed.example2_conditional import ConditionalModel
from seed.example3_multi_input import MultiInputModel

import callax as keras

x = keras.random.normal((32, 32))
m1 = SimpleSequentialModel()
print("example 1:", m1(x).shape, f"{m1.count_params():,} params")
m2 = ConditionalModel()
print("example 2: training=True", m2(x, training=True).shape, "training=False", m2(x).shape)
m3 = MultiInputModel()
out = m3(keras.random.normal((32, 16)), keras.random.normal((32, 16)))
print("example 3:", out.shape, f"{len(m3.trainable_weights)} trainable weights (dense1 shared)")

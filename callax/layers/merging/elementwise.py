"""Elementwise merging layers (Add, Subtract, Multiply, Maximum, Minimum, Average)
and their functional forms."""

from __future__ import annotations

import functools
from typing import Any

import jax.numpy as jnp

from callax.layers.merging.base_merge import Merge


class Add(Merge):
    """Elementwise sum. ``Add()([a, b])``."""

    _merge = staticmethod(jnp.add)


class Subtract(Merge):
    """``a - b`` for exactly two inputs."""

    def call(self, inputs):
        self._check(inputs)
        if len(inputs) != 2:
            raise ValueError(
                f"Subtract '{self.name}' takes exactly 2 inputs; received {len(inputs)}."
            )
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Elementwise product."""

    _merge = staticmethod(jnp.multiply)


class Maximum(Merge):
    _merge = staticmethod(jnp.maximum)


class Minimum(Merge):
    _merge = staticmethod(jnp.minimum)


class Average(Merge):
    def call(self, inputs):
        self._check(inputs)
        return functools.reduce(jnp.add, inputs) / len(inputs)


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``: the first of two tensors minus the second."""
    return Subtract(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of the tensors.

    Example:
        >>> import callax
        >>> a, b = callax.ops.array([[1.0, 5.0]]), callax.ops.array([[3.0, 2.0]])
        >>> callax.layers.maximum([a, b]).tolist()
        [[3.0, 5.0]]
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of the tensors."""
    return Minimum(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``: the elementwise mean of the tensors."""
    return Average(**kwargs)(inputs)

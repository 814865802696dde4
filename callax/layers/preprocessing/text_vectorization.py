"""``TextVectorization``: strings to token indices or bag-of-words vectors, with
Keras 3's standardization, splitting, n-grams, vocabulary and output modes.

Text runs on the host with numpy and Python strings (JAX has no string type).
The usual Keras workflow works unchanged:

- in the data pipeline: ``x = vectorizer(texts)`` gives an integer (or float)
  ``jax.Array`` that ``fit`` takes like any other data;
- as the first layer of a model (``Input(shape=(1,), dtype="string")``, or the first
  layer of a Sequential): ``model(np.array([["some text"]]))`` passes the strings to
  ``call`` untouched and this layer turns them into numbers. ``fit``/``predict``/
  ``evaluate`` on string arrays run their steps eagerly (Keras, likewise, does not
  compile a model holding a layer with ``supports_jit=False``): correct, but slower
  than vectorizing in the pipeline and training on the numbers.

The vocabulary lives in the layer (``get_vocabulary``/``set_vocabulary``, ``adapt``)
and in its config: callax's ``.keras`` archives hold no assets, so a saved model
carries its vocabulary (and TF-IDF weights) in ``config.json``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core.serialization import deserialize_keras_object, serialize_keras_object
from callax.layers.preprocessing.base_preprocessing import (
    HostPreprocessingLayer,
    _batches,
    _check_mode,
    to_str_array,
)
from callax.layers.preprocessing.index_lookup import LOOKUP_MODES, StringLookup

# Keras's punctuation class (ASCII punctuation), removed by "strip_punctuation".
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
# Keras lowercases with tf.strings.lower, which changes ASCII letters only.
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _ngrams(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    """All n-grams of each width, width by width (tf.strings.ngrams's order)."""
    out: list[str] = []
    for n in widths:
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextVectorization(HostPreprocessingLayer):
    """Turns strings into sequences of token indices or into token vectors.

    Args:
        max_tokens: the vocabulary's maximum size (mask and OOV tokens included).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, ``None``, or a callable taking and returning a
            numpy array of ``str``.
        split: ``"whitespace"`` (default), ``"character"``, ``None`` (each string is
            one token), or a callable mapping a 1-D array of ``str`` to a list of
            token lists.
        ngrams: ``None``, an int ``n`` (1..n-grams) or a tuple of widths.
        output_mode: ``"int"`` (index sequences, 0 is padding, 1 is OOV),
            ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``"int"`` mode: pad or cut every sequence to this
            length (else pad to the batch's longest).
        pad_to_max_tokens: vector modes: ``max_tokens`` columns.
        vocabulary: a list of strings or a text file with one token per line.
        idf_weights: TF-IDF weights for a given vocabulary.

    Example:
        >>> import numpy as np, callax
        >>> vectorize = callax.layers.TextVectorization(output_sequence_length=4)
        >>> vectorize.adapt(["The cat sat.", "The dog sat down!"])
        >>> vectorize.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'down', 'dog', 'cat']
        >>> vectorize(np.array(["the cat ran"])).tolist()
        [[2, 6, 1, 0]]
    """

    def __init__(self, max_tokens: int | None = None,
                 standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: Any = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None,
                 **kwargs: Any):  # fmt: skip
        kwargs.pop("vocabulary_size", None)  # written by Keras's get_config
        super().__init__(name=name, **kwargs)
        owner = f"TextVectorization '{self.name}'"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        self.output_mode = _check_mode(self, output_mode, tuple(m for m in LOOKUP_MODES
                                                                if m != "one_hot"))  # fmt: skip
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(
                f"{owner}: standardize must be one of {_STANDARDIZE}, None or a callable; "
                f"received standardize={standardize!r}."
            )
        if not (split is None or callable(split) or split in _SPLIT):
            raise ValueError(
                f"{owner}: split must be one of {_SPLIT}, None or a callable; received "
                f"split={split!r}."
            )
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and ngrams > 0)
            or (isinstance(ngrams, tuple) and all(isinstance(n, int) and n > 0 for n in ngrams))
        ):
            raise ValueError(
                f"{owner}: ngrams must be None, a positive int or a tuple of positive ints; "
                f"received ngrams={ngrams!r}."
            )
        if output_sequence_length is not None:
            if self.output_mode != "int":
                raise ValueError(
                    f"{owner}: output_sequence_length only applies to output_mode='int'; "
                    f"received output_mode={self.output_mode!r}."
                )
            if not isinstance(output_sequence_length, int) or output_sequence_length < 1:
                raise ValueError(
                    f"{owner}: output_sequence_length must be a positive int or None; "
                    f"received output_sequence_length={output_sequence_length!r}."
                )
        if ragged:
            raise ValueError(
                f"{owner}: ragged outputs are a TensorFlow-only feature of Keras; callax "
                "returns padded arrays. Received ragged=True."
            )
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._ngram_widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_sequence_length = output_sequence_length
        self.encoding = encoding
        self.ragged = False
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=self.output_mode,
            sparse=sparse, encoding=encoding, name=f"{self.name}_string_lookup",
        )  # fmt: skip
        self.built = True

    @property
    def input_dtype(self) -> str:
        """``"string"``: what a Sequential model's implicit input holds."""
        return "string"

    # ------------------------------------------------------- vocabulary
    @property
    def max_tokens(self) -> int | None:
        return self._lookup_layer.max_tokens

    @property
    def pad_to_max_tokens(self) -> bool:
        return self._lookup_layer.pad_to_max_tokens

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary in index order (``''`` is padding, ``'[UNK]'`` is OOV in
        ``"int"`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (list or file) and, for ``"tf_idf"``, its weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------ processing
    def _standardize(self, strings: np.ndarray) -> np.ndarray:
        mode = self.standardize
        if mode is None:
            return strings
        if callable(mode):
            return to_str_array(mode(strings))
        flat = [str(s) for s in strings.reshape(-1)]
        if mode in ("lower", "lower_and_strip_punctuation"):
            flat = [s.translate(_ASCII_LOWER) for s in flat]
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [_PUNCTUATION.sub("", s) for s in flat]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(strings.shape)

    def _tokenize(self, inputs: Any) -> list[list[str]] | np.ndarray:
        """Token lists (one per input string), or the standardized strings
        themselves when ``split=None``."""
        strings = to_str_array(inputs)
        if strings.ndim == 0:
            strings = strings.reshape(1)
        strings = self._standardize(strings)
        if self.split is None:
            if self._ngram_widths is not None and strings.ndim >= 1:
                return [_ngrams([str(s) for s in row], self._ngram_widths)
                        for row in strings.reshape(strings.shape[0], -1)]  # fmt: skip
            return strings
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(
                    f"TextVectorization '{self.name}': to split strings the input must be "
                    f"rank 1 or have a last dimension of 1; received input shape "
                    f"{strings.shape}."
                )
            strings = strings.reshape(strings.shape[:-1])
        if strings.ndim != 1:
            raise ValueError(
                f"TextVectorization '{self.name}' expects a batch of strings (batch,) or "
                f"(batch, 1); received input shape {strings.shape + (1,)}."
            )
        if self.split == "whitespace":
            rows = [s.split() for s in strings]
        elif self.split == "character":
            rows = [list(s) for s in strings]
        else:
            rows = [[str(t) for t in row] for row in self.split(strings)]
        if self._ngram_widths is not None:
            rows = [_ngrams(r, self._ngram_widths) for r in rows]
        return rows

    def host_call(self, inputs: Any) -> Any:
        lookup = self._lookup_layer
        lookup._check_ready()
        tokens = self._tokenize(inputs)
        if isinstance(tokens, np.ndarray):  # split=None: one token per string
            return jnp.asarray(lookup.encode(lookup.lookup_tokens(tokens)))
        ids = [lookup.lookup_tokens(np.asarray(row, dtype=object)) for row in tokens]
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is None:
                length = max((len(r) for r in ids), default=0)
            out = np.zeros((len(ids), length), np.int32)
            for i, r in enumerate(ids):
                r = r[:length]
                out[i, : len(r)] = r
            return jnp.asarray(out)
        rows = [lookup.encode(r[None, :] if len(r) else np.full((1, 1), -1)) for r in ids]
        return jnp.asarray(np.concatenate(rows, axis=0))

    def call(self, inputs):
        raise TypeError(
            f"TextVectorization '{self.name}' takes strings on the host (a str, a list of "
            "str or a numpy array of str). Strings cannot enter compiled functions (the "
            "fit/predict steps): vectorize the data first, e.g. `x = vectorizer(texts)`, or "
            f"call the model eagerly. Received {type(inputs).__name__} of dtype "
            f"{getattr(inputs, 'dtype', None)}."
        )

    # ------------------------------------------------------------ adapt
    def adapt(self, data: Any, batch_size: Any = None, steps: int | None = None) -> None:
        """Learns the vocabulary from ``data``: a list/array of strings, or an
        iterable of batches (a PyDataset; ``(x, y)`` batches use ``x``). Each
        string is one document (for TF-IDF)."""
        counts: Counter = Counter()
        docs: Counter = Counter()
        num_docs = 0
        for batch in _batches(data, steps):
            tokens = self._tokenize(batch)
            if isinstance(tokens, np.ndarray):
                tokens = [[str(t)] for t in tokens.reshape(-1)]
            for row in tokens:
                counts.update(row)
                docs.update(set(row))
            num_docs += len(tokens)
        self._lookup_layer._finish_adapt(counts, docs, num_docs)

    def compute_output_shape(self, input_shape):
        batch = tuple(input_shape)[0] if len(input_shape) else None
        if self.output_mode == "int":
            if self.split is None:
                return tuple(input_shape)
            return (batch, self.output_sequence_length)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return (batch, depth)

    def get_config(self):
        lookup = self._lookup_layer.get_config()
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": _serialize_callable(self.standardize),
            "split": _serialize_callable(self.split),
            "ngrams": self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "sparse": False,
            "ragged": self.ragged,
            # No .keras assets in callax: the vocabulary travels in the config.
            "vocabulary": lookup["vocabulary"],
            "idf_weights": lookup["idf_weights"],
            "encoding": self.encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config: dict) -> TextVectorization:
        config = dict(config)
        for key in ("standardize", "split"):
            if isinstance(config.get(key), dict):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


def _serialize_callable(value: Any) -> Any:
    """A callable standardize/split as a registered-function reference (Keras's
    format: register it with ``keras.saving.register_keras_serializable``)."""
    if not callable(value):
        return value
    return serialize_keras_object(value)

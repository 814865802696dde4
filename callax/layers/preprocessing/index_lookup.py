"""Vocabulary lookup layers: ``StringLookup`` and ``IntegerLookup`` (Keras 3's
index layout, ``adapt`` ordering, OOV rules and encodings).

Index layout (as Keras): ``[mask_token]`` (``output_mode="int"`` with a mask
token only) ``+ [oov_token] * num_oov_indices + vocabulary``. A mask token maps to
0 in ``"int"`` mode and is dropped by the other modes; out-of-vocabulary inputs map
to the OOV index (``hash % num_oov_indices`` with several: FarmHash for strings,
``floormod`` for integers). ``adapt`` orders tokens by count, ties broken by the
token, both descending, as Keras does.

Strings run on the host (numpy); ``IntegerLookup`` on integer arrays runs as
``jax.numpy`` and works inside jitted functions. There are no ``.keras`` assets
here: the vocabulary (and TF-IDF weights) are stored in the layer's config, which
Keras reads as a ``vocabulary=`` argument.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.layers.preprocessing.base_preprocessing import (
    ENCODING_MODES,
    HostPreprocessingLayer,
    _batches,
    _check_mode,
    _check_sparse,
    encode_categorical,
    to_str_array,
)
from callax.layers.preprocessing.string_hash import fingerprint64, siphash64

LOOKUP_MODES = ("int",) + ENCODING_MODES + ("tf_idf",)


class IndexLookup(HostPreprocessingLayer):
    """The shared machinery of :class:`StringLookup` and :class:`IntegerLookup`."""

    _string_tokens = True

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 salt: Any = None, **kwargs: Any):  # fmt: skip
        kwargs.pop("vocabulary_size", None)  # written by Keras's get_config
        kwargs.pop("vocabulary_dtype", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        self.output_mode = _check_mode(self, output_mode, LOOKUP_MODES)
        _check_sparse(self, sparse)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{owner}: max_tokens must be greater than 1 if set; received "
                f"max_tokens={max_tokens!r}."
            )
        if not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(
                f"{owner}: num_oov_indices must be an int >= 0; received "
                f"num_oov_indices={num_oov_indices!r}."
            )
        if invert and self.output_mode != "int":
            raise ValueError(
                f"{owner}: invert=True needs output_mode='int'; received "
                f"output_mode={self.output_mode!r}."
            )
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(
                f"{owner}: idf_weights is only used with output_mode='tf_idf'; received "
                f"output_mode={self.output_mode!r}."
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"{owner}: oov_method must be 'floormod' or 'farmhash'; received "
                f"oov_method={oov_method!r}."
            )
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method = oov_method
        self.salt = [salt, salt] if isinstance(salt, int) else salt
        self._tokens: list = []
        self._index: dict = {}
        self._idf: np.ndarray | None = None
        self._has_input_vocabulary = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif self.output_mode == "tf_idf" and idf_weights is not None:
            raise ValueError(f"{owner}: idf_weights needs a vocabulary; received none.")
        self.built = True

    # ---------------------------------------------------------- layout
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens in index order (index ``i`` is token ``i`` when special
        tokens are included)."""
        if not include_special_tokens:
            return list(self._tokens)
        head = [self.oov_token] * self._token_start_index()
        if self._oov_start_index():
            head[0] = self.mask_token
        return head + list(self._tokens)

    # ------------------------------------------------------ vocabulary
    def _convert_token(self, token: Any) -> Any:
        if self._string_tokens:
            return token.decode("utf-8") if isinstance(token, bytes) else str(token)
        return int(token)

    def _read_vocabulary(self, vocabulary: Any) -> list:
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.isfile(path):
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': vocabulary file {path!r} does not exist."
                )
            with open(path, encoding="utf-8") as f:
                return [self._convert_token(line.rstrip("\r\n")) for line in f]
        values = np.asarray(vocabulary, dtype=object).reshape(-1)
        return [self._convert_token(t) for t in values]

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Sets the vocabulary (a list, array or file with one token per line),
        with or without the leading special tokens, and the TF-IDF weights."""
        owner = f"{type(self).__name__} '{self.name}'"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner}: idf_weights must be set with output_mode='tf_idf'.")
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(
                f"{owner}: idf_weights is only used with output_mode='tf_idf'; received "
                f"output_mode={self.output_mode!r}."
            )
        vocab = self._read_vocabulary(vocabulary)
        if not vocab:
            raise ValueError(f"{owner}: cannot set an empty vocabulary; received [].")
        start = self._token_start_index()
        special = self.get_vocabulary()[:start]
        found_special = vocab[:start] == special
        tokens = vocab[start:] if found_special else vocab
        repeated = sorted({t for t, n in Counter(tokens).items() if n > 1}, key=str)
        if repeated:
            raise ValueError(f"{owner}: the vocabulary repeats terms; received repeats {repeated}.")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                f"{owner}: the mask token {self.mask_token!r} may only appear at the start of "
                f"the vocabulary, before the OOV tokens ({special}); received it at index "
                f"{vocab.index(self.mask_token)}."
            )
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise ValueError(
                f"{owner}: the OOV token {self.oov_token!r} may only appear at the start of "
                f"the vocabulary ({special}); received it at index "
                f"{vocab.index(self.oov_token)}."
            )
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{owner}: the vocabulary has {start + len(tokens)} entries with special "
                f"tokens, more than max_tokens={self.max_tokens}."
            )
        idf = None
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if len(weights) != len(vocab):
                raise ValueError(
                    f"{owner}: idf_weights must be as long as the vocabulary ({len(vocab)}); "
                    f"received {len(weights)} weights."
                )
            # Special tokens have no real document frequency: the mean weight stands in.
            front = 0 if found_special else start
            back = 0
            if self.pad_to_max_tokens and self.max_tokens is not None:
                back = self.max_tokens - front - len(weights)
            fill = float(np.mean(weights)) if front else 0.0
            idf = np.concatenate([np.full(front, fill), weights, np.zeros(max(back, 0))])
        self._set_tokens(tokens, idf)
        self._has_input_vocabulary = True

    def _set_tokens(self, tokens: list, idf: np.ndarray | None) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._idf = None if idf is None else np.asarray(idf, np.float32)

    # ------------------------------------------------------------ adapt
    def adapt(self, data: Any, steps: int | None = None, batch_size: Any = None) -> None:
        """Builds the vocabulary from ``data`` (an array, a list, or an iterable
        of batches such as a PyDataset): tokens by count, most frequent first."""
        counts: Counter = Counter()
        docs: Counter = Counter()
        num_docs = 0
        for batch in _batches(data, steps):
            rows = self._adapt_rows(batch)
            for row in rows:
                counts.update(row)
                docs.update(set(row))
            num_docs += len(rows)
        self._finish_adapt(counts, docs, num_docs)

    def _adapt_rows(self, batch: Any) -> list[list]:
        """One token list per document: a rank-1 batch is one document (Keras)."""
        a = np.asarray(to_str_array(batch) if self._string_tokens else batch, dtype=object)
        if a.ndim == 0:
            a = a.reshape(1)
        if a.ndim == 1:
            a = a.reshape(1, -1)
        a = a.reshape(a.shape[0], -1)
        return [[self._convert_token(t) for t in row] for row in a]

    def _finish_adapt(self, counts: Counter, docs: Counter, num_docs: int) -> None:
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        # Count descending, ties broken by the token, descending (Keras's order).
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        start = self._token_start_index()
        if self.max_tokens:
            tokens = tokens[: self.max_tokens - start]
        idf = None
        if self.output_mode == "tf_idf":
            weights = np.array([math.log(1 + num_docs / (1 + docs[t])) for t in tokens])
            fill = float(weights.mean()) if len(weights) else 0.0
            back = 0
            if self.pad_to_max_tokens and self.max_tokens is not None:
                back = self.max_tokens - start - len(weights)
            idf = np.concatenate([np.full(start, fill), weights, np.zeros(max(back, 0))])
        self._set_tokens(tokens, idf)

    # ------------------------------------------------------------- call
    def _depth(self) -> int:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return self.max_tokens
        return self.vocabulary_size()

    def _oov_hash(self, token: Any) -> int:
        if not self._string_tokens and self.oov_method != "farmhash":
            return int(token) % self.num_oov_indices
        text = str(token)
        h = siphash64(text, tuple(self.salt)) if self.salt is not None else fingerprint64(text)
        return h % self.num_oov_indices

    def lookup_tokens(self, values: np.ndarray) -> np.ndarray:
        """Indices (int64) of host ``values``; masked entries are 0 in "int" mode
        and -1 otherwise (dropped by the encoders)."""
        flat = values.reshape(-1)
        out = np.empty(flat.shape, np.int64)
        oov_start = self._oov_start_index()
        mask_index = 0 if self.output_mode == "int" else -1
        missing = []
        for i, v in enumerate(flat):
            t = self._convert_token(v)
            if self.mask_token is not None and t == self.mask_token:
                out[i] = mask_index
            elif t in self._index:
                out[i] = self._index[t]
            elif self.num_oov_indices == 1:
                out[i] = oov_start
            elif self.num_oov_indices == 0:
                missing.append(t)
            else:
                out[i] = oov_start + self._oov_hash(t)
        if missing:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': with num_oov_indices=0 every input must "
                f"be in the vocabulary; received out-of-vocabulary values {missing[:10]}."
            )
        return out.reshape(values.shape)

    def invert_indices(self, indices: np.ndarray) -> np.ndarray:
        vocab = self.get_vocabulary()
        flat = np.asarray(indices).reshape(-1)
        out = np.empty(flat.shape, dtype=object)
        for i, k in enumerate(flat):
            out[i] = vocab[k] if 0 <= k < len(vocab) else self.oov_token
        return out.reshape(np.shape(indices))

    def encode(self, indices: Any, xp: Any = np) -> Any:
        """Encodes looked-up indices in the layer's output mode."""
        if self.output_mode == "int":
            return xp.asarray(indices).astype("int32")
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(indices, self._depth(), mode, "float32", xp=xp)
        if self.output_mode == "tf_idf":
            out = out * xp.asarray(self._idf[: self._depth()], dtype="float32")
        return out

    def _check_ready(self) -> None:
        if self.output_mode != "int" and not self._tokens and not self._has_input_vocabulary:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has no vocabulary yet: call adapt() or "
                "set_vocabulary() first."
            )

    def host_call(self, inputs: Any) -> Any:
        self._check_ready()
        if self.invert:
            raise TypeError(
                f"{type(self).__name__} '{self.name}' has invert=True and takes integer "
                "indices; received strings."
            )
        values = to_str_array(inputs) if self._string_tokens else np.asarray(inputs)
        return jnp.asarray(self.encode(self.lookup_tokens(values)))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            keep = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return keep + (self._depth(),)
        return shape[:-1] + (self._depth(),)

    def get_config(self):
        start = self._token_start_index()
        idf = None
        if self._idf is not None:
            idf = [float(w) for w in self._idf[start : start + len(self._tokens)]]
        vocab = self.get_vocabulary(include_special_tokens=False)
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": idf,
            # No .keras assets in callax: the vocabulary travels in the config.
            "vocabulary": vocab if vocab or self._has_input_vocabulary else None,
            "vocabulary_size": self.vocabulary_size(),
            "oov_method": self.oov_method,
            "salt": self.salt,
        }


class StringLookup(IndexLookup):
    """Maps strings to integer indices from a vocabulary (or back, ``invert=True``).

    Args:
        max_tokens: the vocabulary's maximum size, special tokens included.
        num_oov_indices: indices for out-of-vocabulary strings (hashed among them).
        mask_token: a string mapped to 0 (``"int"`` mode) / dropped (other modes).
        oov_token: what ``invert=True`` returns for OOV indices (``"[UNK]"``).
        vocabulary: a list/array of strings or a text file, one token per line.
        idf_weights: for ``output_mode="tf_idf"`` with a given vocabulary.
        invert: map indices back to strings (a numpy array of ``str``).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        pad_to_max_tokens: encode to ``max_tokens`` columns instead of the vocabulary size.

    Runs on the host (strings are not JAX types): apply it to data before ``fit``,
    or eagerly. ``adapt(data)`` learns the vocabulary.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.StringLookup(vocabulary=["a", "b", "c"])
        >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).tolist()
        [[1, 3, 0], [0, 0, 2]]
        >>> layer.get_vocabulary()
        ['[UNK]', 'a', 'b', 'c']
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]",
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, encoding: str = "utf-8", name: str | None = None,
                 salt: Any = None, **kwargs: Any):  # fmt: skip
        kwargs.pop("oov_method", None)  # strings always hash with FarmHash/SipHash
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method="farmhash", salt=salt,
                         name=name, **kwargs)  # fmt: skip
        self.encoding = encoding

    def call(self, inputs):
        # Numeric inputs reach here: the indices of invert=True.
        if not self.invert:
            raise TypeError(
                f"StringLookup '{self.name}' looks up strings; received a numeric array of "
                f"dtype {inputs.dtype}. Pass a numpy array of str, or use IntegerLookup."
            )
        if isinstance(inputs, jax.core.Tracer):
            raise TypeError(
                f"StringLookup '{self.name}' returns strings, which cannot leave a jitted "
                "function; call it eagerly. Received a traced array."
            )
        return self.invert_indices(np.asarray(inputs))

    @property
    def input_dtype(self) -> str:
        """``"string"`` (``"int32"`` indices with ``invert=True``)."""
        return "int32" if self.invert else "string"

    def _host_output_dtype(self) -> str:
        return "string" if self.invert else super()._host_output_dtype()

    def get_config(self):
        config = super().get_config()
        config.pop("oov_method")
        return {**config, "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices from a vocabulary (or back,
    ``invert=True``). Arguments as :class:`StringLookup`; ``oov_token=-1`` and
    ``oov_method="floormod"`` (several OOV indices: ``value % num_oov_indices``;
    ``"farmhash"`` hashes the decimal text).

    Runs as ``jax.numpy`` on integer arrays (works under ``jit`` and in ``fit``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _string_tokens = False
    supports_jit = True  # integer arrays run as jax.numpy

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod",
                 salt: Any = None, name: str | None = None, **kwargs: Any):  # fmt: skip
        if vocabulary_dtype not in ("int32", "int64"):
            raise ValueError(
                f"IntegerLookup: vocabulary_dtype must be 'int32' or 'int64'; received "
                f"vocabulary_dtype={vocabulary_dtype!r}."
            )
        mask_token = None if mask_token is None else int(mask_token)
        oov_token = None if oov_token is None else int(oov_token)
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method, salt=salt,
                         name=name, **kwargs)  # fmt: skip
        self.vocabulary_dtype = vocabulary_dtype

    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(self._tokens, np.int64)
        order = np.argsort(keys, kind="stable")
        return keys[order], (order + self._token_start_index()).astype(np.int32)

    def call(self, inputs):
        self._check_ready()
        x = jnp.asarray(inputs)
        if self.invert:
            full = np.asarray(self.get_vocabulary(), np.int64)
            idx = x.astype(jnp.int32)
            inside = (idx >= 0) & (idx < len(full))
            out = jnp.asarray(full)[jnp.clip(idx, 0, len(full) - 1)]
            return jnp.where(inside, out, self.oov_token).astype(x.dtype)
        if self.num_oov_indices == 0 and not isinstance(x, jax.core.Tracer):
            self.lookup_tokens(np.asarray(x))  # raises, naming the OOV values
        if self.num_oov_indices > 1 and self.oov_method == "farmhash":
            if isinstance(x, jax.core.Tracer):
                raise TypeError(
                    f"IntegerLookup '{self.name}': oov_method='farmhash' hashes on the host "
                    "and cannot run inside a jitted function. Received a traced array."
                )
            return jnp.asarray(self.encode(self.lookup_tokens(np.asarray(x))))
        keys, values = self._tables()
        oov_start = self._oov_start_index()
        if len(keys):
            pos = jnp.clip(jnp.searchsorted(jnp.asarray(keys), x), 0, len(keys) - 1)
            found = jnp.asarray(keys)[pos] == x
            idx = jnp.where(found, jnp.asarray(values)[pos], -1)
        else:
            found = jnp.zeros(x.shape, bool)
            idx = jnp.full(x.shape, -1, jnp.int32)
        if self.num_oov_indices == 1:
            idx = jnp.where(found, idx, oov_start)
        elif self.num_oov_indices > 1:
            idx = jnp.where(found, idx, oov_start + jnp.mod(x, self.num_oov_indices))
        if self.mask_token is not None:
            idx = jnp.where(x == self.mask_token, 0 if self.output_mode == "int" else -1, idx)
        return self.encode(idx, xp=jnp)

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}

"""``text_dataset_from_directory``: batches of texts from a folder per class.

Keras returns a ``tf.data.Dataset`` of ``tf.string`` batches; callax returns a
:class:`~callax.utils.dataset_utils.BatchDataset` whose text batches are NumPy
object arrays of Python ``str`` (UTF-8 decoded), with ``class_names`` and
``file_paths`` as Keras.

Example:
    >>> import os, tempfile
    >>> from callax.utils import text_dataset_from_directory
    >>> root = tempfile.mkdtemp()
    >>> for cls, text in (("neg", "bad"), ("pos", "good")):
    ...     os.makedirs(os.path.join(root, cls))
    ...     with open(os.path.join(root, cls, "1.txt"), "w") as f:
    ...         _ = f.write(text)
    >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
    >>> texts, labels = ds[0]
    >>> ds.class_names, texts.tolist(), labels.tolist()
    (['neg', 'pos'], ['bad', 'good'], [0, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.utils import dataset_utils as du


def _read(path: str, max_length: int | None) -> str:
    with open(path, "rb") as f:
        data = f.read()
    if max_length is not None:
        data = data[:max_length]  # bytes, as tf.strings.substr
    return data.decode("utf-8", errors="ignore")


def text_dataset_from_directory(
    directory: str,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",
    verbose: bool = True,
) -> Any:
    """Batches ``(texts, labels)`` from ``directory/<class>/<.txt files>``.

    Arguments are Keras 3's (see ``image_dataset_from_directory``);
    ``max_length`` truncates each text to that many bytes. ``subset="both"``
    returns ``[training, validation]``.
    """
    labels, label_mode = du.check_label_args(
        "text_dataset_from_directory", "text file", labels, class_names, label_mode
    )
    du.check_split_args(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_array, names = du.index_directory(
        directory, labels, (".txt",), class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose,
    )  # fmt: skip
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            "text_dataset_from_directory: label_mode='binary' needs exactly 2 classes; "
            f"received class_names={names}."
        )

    def read(paths: list[str], indices: np.ndarray) -> np.ndarray:
        texts = np.empty(len(indices), dtype=object)
        texts[:] = [_read(paths[i], max_length) for i in indices]
        return texts

    return du.subset_datasets(
        "text_dataset_from_directory", f"text files found in directory {directory!r}.",
        paths, label_array, names, label_mode, read, subset=subset,
        validation_split=validation_split, batch_size=batch_size, shuffle=shuffle, seed=seed,
        verbose=verbose,
    )  # fmt: skip

"""Every keras.src path in the table imports once callax is installed as keras."""

from compat_subprocess import run_as_keras

from callax.keras_compat.src_paths import SRC_PATHS, children


def test_table_targets_import_on_their_own():
    import importlib

    for path, entry in SRC_PATHS.items():
        assert path == "keras.src" or path.rpartition(".")[0] in SRC_PATHS, path
        assert entry.used_by, path
        if entry.target is not None:
            importlib.import_module(entry.target)


def test_children():
    assert children("keras.src.saving") == ["serialization_lib", "saving_lib"]
    assert children("keras.src.ops") == []


def test_every_entry_imports_as_keras():
    out = run_as_keras(
        """
        import importlib
        from callax.keras_compat.src_paths import SRC_PATHS, children
        for path, entry in SRC_PATHS.items():
            module = importlib.import_module(path)
            if entry.target is not None:
                target = importlib.import_module(entry.target)
                public = getattr(target, "__all__", [n for n in dir(target) if n[0] != "_"])
                for name in public[:50]:
                    assert getattr(module, name) is getattr(target, name), (path, name)
            for child in children(path):  # reachable as attributes, as KerasHub uses them
                assert getattr(module, child) is importlib.import_module(path + "." + child)
        import keras
        print(keras.src.saving.saving_lib.H5IOStore.__module__)
        import importlib.util
        assert importlib.util.find_spec("keras.src.layers") is None  # probes see it missing
        try:  # anything else under keras.src is missing
            import keras.src.layers.core.dense
        except ModuleNotFoundError as e:
            print(e)
        """
    )
    first, refused = out.stdout.strip().splitlines()
    assert first == "callax.keras_compat.shims.saving_lib"
    assert refused == "No module named 'keras.src.layers'"


def test_uses_by_the_tools():
    run_as_keras(
        """
        import numpy as np
        from keras.src.saving import serialization_lib
        from keras.src.backend import get_keras_mask, set_keras_mask
        from keras.src.losses.losses import LossFunctionWrapper
        from keras.src.distribution import distribution_lib
        from keras.src import saving
        from keras.src.utils.backend_utils import in_grain_data_pipeline
        from keras.src.trainers.data_adapters.data_adapter_utils import (
            class_weight_to_sample_weights,
        )
        from keras.src.ops import *  # noqa
        import callax
        assert serialization_lib.in_safe_mode() in (True, None)
        assert LossFunctionWrapper is callax.losses.LossFunctionWrapper
        assert distribution_lib.distribution() is None
        assert saving.serialize_keras_object is callax.saving.serialize_keras_object
        assert in_grain_data_pipeline() is False
        emb = callax.layers.Embedding(5, 2, mask_zero=True)
        y = emb(np.array([[1, 0]]))
        assert get_keras_mask(y).tolist() == [[True, False]]
        set_keras_mask(y, None)
        assert get_keras_mask(y) is None
        w = class_weight_to_sample_weights(np.eye(3)[[2, 0, 1]], {0: 0.5, 2: 4.0})
        assert w.tolist() == [4.0, 0.5, 1.0]
        assert cast(np.ones(2), "int32").dtype == "int32"  # noqa: F405
        """
    )

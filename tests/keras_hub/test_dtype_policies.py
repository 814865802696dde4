"""callax.dtype_policies (keras.dtype_policies): Keras 3's configs and map lookups."""

from __future__ import annotations

import pytest

import callax
from callax import dtype_policies


def test_module_is_reachable_as_keras_names():
    assert callax.dtype_policies is dtype_policies
    assert dtype_policies.DTypePolicy is callax.DTypePolicy  # one policy class
    assert dtype_policies.FloatDTypePolicy is callax.DTypePolicy


def test_get_accepts_names_policies_configs_dtypes_and_none():
    assert dtype_policies.get("mixed_bfloat16").compute_dtype == "bfloat16"
    policy = dtype_policies.DTypePolicy("float16")
    assert dtype_policies.get(policy) is policy
    assert dtype_policies.get(None).name == callax.mixed_precision.global_policy().name
    assert dtype_policies.get(dtype_policies.serialize(policy)) == policy
    import numpy as np

    assert dtype_policies.get(np.dtype("float64")).name == "float64"
    with pytest.raises(ValueError, match="dtype_policies.get.*received 3"):
        dtype_policies.get(3)


def test_map_lookup_exact_then_regex_then_default():
    policies = dtype_policies.DTypePolicyMap(default_policy="float32")
    policies["encoder/layer_0/dense"] = "bfloat16"
    policies["encoder/.*"] = dtype_policies.DTypePolicy("float16")
    policies["decoder"] = "bfloat16"
    assert policies["encoder/layer_0/dense"].name == "bfloat16"  # exact key wins
    assert policies["encoder/attention/query"].name == "float16"  # full regex match
    assert policies["decoder/attention"].name == "float32"  # "decoder" is not a prefix
    assert policies.name == "map_float32" and policies.compute_dtype == "float32"
    assert len(policies) == 3 and "decoder" in policies and list(policies)[0].startswith("enc")
    policies["encoder/attention/.*"] = "bfloat16"
    with pytest.raises(ValueError, match="matches several keys"):
        policies["encoder/attention/query"]
    with pytest.raises(ValueError, match="already set"):
        policies["decoder"] = "float16"
    del policies["decoder"]
    assert policies["decoder"].name == "float32"


def test_map_is_a_policy_and_a_layer_accepts_it():
    policies = dtype_policies.DTypePolicyMap("mixed_bfloat16")
    assert isinstance(policies, callax.DTypePolicy)
    assert policies.quantization_mode is None
    dense = callax.layers.Dense(2, dtype=policies)
    y = dense(callax.ops.ones((1, 3)))
    assert str(y.dtype) == "bfloat16" and str(dense.kernel.dtype) == "float32"


def test_bad_map_arguments():
    with pytest.raises(ValueError, match="default_policy.*DTypePolicyMap"):
        dtype_policies.DTypePolicyMap(dtype_policies.DTypePolicyMap())
    with pytest.raises(TypeError, match="policy_map must be a dict.*list"):
        dtype_policies.DTypePolicyMap(policy_map=[("a", "float32")])
    with pytest.raises(ValueError, match="cannot interpret the policy for key 'a'"):
        dtype_policies.DTypePolicyMap()["a"] = "not-a-dtype"
    with pytest.raises(
        ValueError, match="Unknown policy class 'Nope'. Built-in ones: .*'DTypePolicyMap'"
    ):
        dtype_policies.deserialize({"class_name": "Nope", "config": {}})


def test_configs_equal_keras_and_read_keras_configs():
    keras = pytest.importorskip("keras", reason="Keras 3 is the test oracle")
    kd = keras.dtype_policies
    assert dtype_policies.serialize(dtype_policies.DTypePolicy("bfloat16")) == kd.serialize(
        kd.DTypePolicy("bfloat16")
    )
    ours = dtype_policies.DTypePolicyMap("bfloat16")
    ours["a/.*"] = "float16"
    theirs = kd.DTypePolicyMap("bfloat16")
    theirs["a/.*"] = "float16"
    assert dtype_policies.serialize(ours) == kd.serialize(theirs)
    assert dtype_policies.serialize(dtype_policies.DTypePolicyMap()) == kd.serialize(
        kd.DTypePolicyMap()
    )
    back = dtype_policies.deserialize(kd.serialize(theirs))
    assert back == ours and back["a/b"].name == "float16" and back["c"].name == "bfloat16"
    # and a layer config holding a map loads through the generic deserializer
    restored = callax.saving.deserialize_keras_object(kd.serialize(theirs))
    assert restored == ours

"""KerasHub backbones (BERT, GPT-2, Gemma) run on callax installed as ``keras``.

Tiny randomly initialised models built from configs (no downloads). Keras 3 is the
oracle: a Keras subprocess builds the same models, saves ``.weights.h5`` and its
outputs; a callax subprocess loads those weights into its own builds and must give
the same outputs, then fits, saves and reloads. A last Keras subprocess reads the
files callax wrote. Each side is a separate process: a process holds one ``keras``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras_hub", reason="KerasHub is an optional integration")
pytest.importorskip("keras", reason="Keras 3 is the test oracle")

from keras_hub_runners import run_callax, run_keras  # noqa: E402

pytestmark = pytest.mark.slow  # three fresh interpreters importing KerasHub

NAMES = ["bert", "gpt2", "gemma"]

KERAS_REFERENCE = """
import json
OUT = {out!r}
keras.utils.set_random_seed(0)
for name in NAMES:
    model = build(name)
    model.save_weights(f"{{OUT}}/{{name}}.keras.weights.h5")
    result = outputs(model, inputs(name))
    if name == "gpt2":
        result["lm_logits"] = lm_logits(model, inputs(name))
    np.savez(f"{{OUT}}/{{name}}.keras_out.npz", **result)
print(json.dumps({{"ok": True}}))
"""

CALLAX_RUN = """
import json
OUT = {out!r}
results = {{}}


def max_diff(a, b):
    return max(float(np.abs(np.asarray(a[k]) - np.asarray(b[k])).max()) for k in a)


for name in NAMES:
    r = results[name] = {{}}
    x = inputs(name)
    model = build(name)
    r["class"] = type(model).__name__
    r["shapes"] = {{k: list(v.shape) for k, v in outputs(model, x).items()}}

    # Keras's weights file, read by callax: the same outputs as Keras's.
    model.load_weights(f"{{OUT}}/{{name}}.keras.weights.h5")
    ref = np.load(f"{{OUT}}/{{name}}.keras_out.npz")
    got = outputs(model, x)
    if name == "gpt2":
        got["lm_logits"] = lm_logits(model, x)
    r["diff_vs_keras"] = {{k: float(np.abs(got[k] - ref[k]).max()) for k in ref.files}}
    if name == "gpt2":  # greedy generate() (KV cache, while loop) == an argmax loop
        lm = keras_hub.models.GPT2CausalLM(backbone=model, preprocessor=None)
        lm.compile(sampler="greedy")
        prompt = np.zeros((2, 8), "int32")
        prompt[:, :3] = [[5, 6, 7], [8, 9, 10]]
        generated = lm.generate({{"token_ids": prompt, "padding_mask": prompt > 0}},
                                stop_token_ids=None)["token_ids"]
        manual = prompt.copy()
        for i in range(3, 8):
            logits = np.asarray(lm({{"token_ids": manual, "padding_mask": np.ones_like(manual)}}))
            manual[:, i] = logits[:, i - 1].argmax(-1)
        r["generate"] = [np.asarray(generated).tolist(), manual.tolist()]

    # Config round trip (KerasHub's own get_config / from_config).
    config = model.get_config()
    rebuilt = type(model).from_config(config)
    r["config_round_trip"] = rebuilt.get_config() == config
    r["config_dtype"] = config["dtype"]

    # .weights.h5 round trip into the model rebuilt from the config.
    model.save_weights(f"{{OUT}}/{{name}}.callax.weights.h5")
    rebuilt.load_weights(f"{{OUT}}/{{name}}.callax.weights.h5")
    r["weights_round_trip"] = max_diff(outputs(model, x), outputs(rebuilt, x))
    if name == "gpt2":  # a KerasHub preset folder (config.json + model.weights.h5)
        model.save_to_preset(f"{{OUT}}/gpt2_preset")
        preset = keras_hub.models.Backbone.from_preset(f"{{OUT}}/gpt2_preset")
        r["preset_round_trip"] = max_diff(outputs(model, x), outputs(preset, x))
        np.savez(f"{{OUT}}/gpt2_preset_out.npz", **outputs(model, x))

    # fit: BERT inside KerasHub's BertTextClassifier task (no preprocessor), the
    # decoders inside a Functional classifier.
    if name == "bert":
        clf = keras_hub.models.BertTextClassifier(
            backbone=model, num_classes=2, preprocessor=None)
    else:
        inp = {{k: keras.Input(shape=(8,), dtype="int32", name=k) for k in x}}
        h = keras.layers.GlobalAveragePooling1D()(model(inp))
        clf = keras.Model(inp, keras.layers.Dense(2, name="head")(h))
    r["fitted_class"] = type(clf).__name__
    clf.compile(optimizer=keras.optimizers.Adam(1e-3),  # small: 3 steps must lower the loss
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [np.array(w) for w in model.get_weights()]
    # The training losses of 3 one-batch epochs carry dropout noise; the loss in
    # inference mode (no dropout) before and after the fit is what training lowers.
    y = np.array([0, 1])
    r["eval_before"] = clf.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)["loss"]
    history = clf.fit(x, y, epochs=3, batch_size=2, verbose=0)
    r["losses"] = [float(v) for v in history.history["loss"]]
    r["eval_after"] = clf.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)["loss"]
    r["backbone_trained"] = any(
        not np.allclose(a, b) for a, b in zip(before, model.get_weights()))

    # .keras round trip of the fitted model, and files for Keras to read.
    pred = np.asarray(clf.predict(x, verbose=0))
    clf.save(f"{{OUT}}/{{name}}.fitted.keras")
    loaded = keras.saving.load_model(f"{{OUT}}/{{name}}.fitted.keras")
    r["loaded_class"] = type(loaded).__name__
    r["keras_file_round_trip"] = float(np.abs(np.asarray(loaded.predict(x, verbose=0)) - pred).max())
    np.save(f"{{OUT}}/{{name}}.fitted_pred.npy", pred)
    model.save_weights(f"{{OUT}}/{{name}}.fitted.weights.h5")
    np.savez(f"{{OUT}}/{{name}}.fitted_out.npz", **outputs(model, x))

print(json.dumps(results))
"""

KERAS_READS_CALLAX = """
import json
OUT = {out!r}
results = {{}}
for name in NAMES:
    x = inputs(name)
    model = build(name)
    model.load_weights(f"{{OUT}}/{{name}}.fitted.weights.h5")
    ref = np.load(f"{{OUT}}/{{name}}.fitted_out.npz")
    got = outputs(model, x)
    loaded = keras.saving.load_model(f"{{OUT}}/{{name}}.fitted.keras")
    pred = np.asarray(loaded.predict(x, verbose=0))
    results[name] = {{
        "weights": max(float(np.abs(got[k] - ref[k]).max()) for k in ref.files),
        "keras_file": float(np.abs(pred - np.load(f"{{OUT}}/{{name}}.fitted_pred.npy")).max()),
    }}
preset = keras_hub.models.Backbone.from_preset(f"{{OUT}}/gpt2_preset")
ref = np.load(f"{{OUT}}/gpt2_preset_out.npz")
results["preset"] = {{
    "class": type(preset).__name__,
    "diff": float(np.abs(outputs(preset, inputs("gpt2"))["output"] - ref["output"]).max()),
}}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    """Runs Keras (reference weights and outputs), then callax on them."""
    out = str(tmp_path_factory.mktemp("keras_hub"))
    run_keras(KERAS_REFERENCE.format(out=out))
    results = run_callax(CALLAX_RUN.format(out=out))
    return out, results


@pytest.mark.parametrize("name", NAMES)
def test_backbone_builds_and_calls(exchange, name):
    _, results = exchange
    r = results[name]
    expected_class = {"bert": "BertBackbone", "gpt2": "GPT2Backbone", "gemma": "GemmaBackbone"}
    assert r["class"] == expected_class[name]
    if name == "bert":
        assert r["shapes"] == {"pooled_output": [2, 16], "sequence_output": [2, 8, 16]}
    else:
        assert r["shapes"] == {"output": [2, 8, 16]}


@pytest.mark.parametrize("name", NAMES)
def test_outputs_equal_keras_for_the_same_weights(exchange, name):
    _, results = exchange
    diffs = results[name]["diff_vs_keras"]
    assert diffs, "no outputs compared"
    if name == "gpt2":
        assert "lm_logits" in diffs  # GPT2CausalLM's ReversibleEmbedding head too
    for key, diff in diffs.items():
        assert diff < 1e-5, f"{name} {key}: max |callax - keras| = {diff}"


def test_greedy_generate_equals_an_argmax_loop(exchange):
    _, results = exchange
    generated, manual = results["gpt2"]["generate"]
    assert generated == manual
    assert [row[:3] for row in generated] == [[5, 6, 7], [8, 9, 10]]


@pytest.mark.parametrize("name", NAMES)
def test_config_and_weights_round_trip(exchange, name):
    _, results = exchange
    r = results[name]
    assert r["config_round_trip"]
    assert r["config_dtype"]["class_name"] == "DTypePolicy"  # Keras 3's format
    assert r["weights_round_trip"] == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_fit_trains_the_backbone_and_keras_file_round_trips(exchange, name):
    _, results = exchange
    r = results[name]
    losses = r["losses"]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert r["eval_after"] < r["eval_before"], (r["eval_before"], r["eval_after"])
    assert r["backbone_trained"]
    assert r["keras_file_round_trip"] < 1e-6


def test_bert_text_classifier_task_fits_and_reloads(exchange):
    _, results = exchange
    r = results["bert"]
    assert r["fitted_class"] == r["loaded_class"] == "BertTextClassifier"


def test_keras_reads_the_files_callax_wrote(exchange):
    out, _ = exchange
    results = run_keras(KERAS_READS_CALLAX.format(out=out))
    for name in NAMES:
        assert results[name]["weights"] < 1e-5, (name, results[name])
        assert results[name]["keras_file"] < 1e-5, (name, results[name])
    assert results["preset"]["class"] == "GPT2Backbone"
    assert results["preset"]["diff"] < 1e-5


def test_preset_folder_round_trips(exchange):
    _, results = exchange
    assert results["gpt2"]["preset_round_trip"] == 0.0

"""KerasTuner and MLflow run on callax installed as ``keras`` (each in a subprocess)."""

import json

import pytest
from compat_subprocess import run_as_keras

pytestmark = pytest.mark.slow  # each starts a Python that imports the tool (~5-25 s)


def test_keras_tuner_searches_and_the_best_model_predicts(tmp_path):
    pytest.importorskip("keras_tuner", reason="keras-tuner is an optional integration")
    out = run_as_keras(
        f"""
        import json
        import numpy as np
        import keras
        import keras_tuner as kt
        from keras_tuner.src.backend import config

        assert config.multi_backend() and config.backend() == "jax"  # Keras 3 path taken

        def build(hp):
            model = keras.Sequential([
                keras.layers.Dense(hp.Int("units", 2, 8, step=2), activation="relu"),
                keras.layers.Dense(1),
            ])
            lr = hp.Float("lr", 1e-3, 1e-2, sampling="log")
            model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
            return model

        rng = np.random.RandomState(0)
        x = rng.normal(size=(24, 3)).astype("float32")
        y = x.sum(1, keepdims=True)
        results = {{}}
        for cls, kw in [
            (kt.RandomSearch, dict(max_trials=2)),
            (kt.Hyperband, dict(max_epochs=2, hyperband_iterations=1)),
            (kt.BayesianOptimization, dict(max_trials=2, num_initial_points=1)),
        ]:
            tuner = cls(build, objective="val_loss", directory={str(tmp_path)!r},
                        project_name=cls.__name__, seed=1, **kw)
            tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
            best = tuner.get_best_models(1)[0]
            hp = tuner.get_best_hyperparameters(1)[0]
            k1, b1, k2, b2 = [np.asarray(w) for w in best.get_weights()]
            expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2
            results[cls.__name__] = dict(
                trials=len(tuner.oracle.trials),
                units=[hp.get("units"), k1.shape[1]],
                predict_error=float(np.abs(best.predict(x, verbose=0) - expected).max()),
                score=tuner.oracle.get_best_trials(1)[0].score,
                evaluated=float(best.evaluate(x, y, verbose=0)),
            )
        # KerasTuner's augmentation search space: its RandAugment layer sets self.layers.
        aug = kt.applications.HyperImageAugment(input_shape=(8, 8, 3), augment_layers=2)
        images = rng.uniform(size=(2, 8, 8, 3)).astype("float32")
        hp = kt.HyperParameters()
        hp.Fixed("augment_layers", 1)
        results["augment_shape"] = list(aug.build(hp)(images, training=True).shape)
        print(json.dumps(results))
        """,
        timeout=240,
    )
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert results.pop("augment_shape") == [2, 8, 8, 3]
    assert set(results) == {"RandomSearch", "Hyperband", "BayesianOptimization"}
    for name, r in results.items():
        assert r["trials"] >= 2, (name, r)
        assert r["units"][0] == r["units"][1], (name, r)  # the model has the best hp
        assert r["predict_error"] < 1e-5, (name, r)
        # The checkpoint reloaded: the best model scores what its trial scored.
        assert r["evaluated"] == pytest.approx(r["score"], rel=1e-5), (name, r)


def test_mlflow_autolog_records_params_and_metrics_and_models_reload(tmp_path):
    pytest.importorskip("mlflow", reason="mlflow is an optional integration")
    out = run_as_keras(
        f"""
        import json, os
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # mlflow 3 wants opting in to files
        import numpy as np
        import keras
        import mlflow

        mlflow.set_tracking_uri("file:" + {str(tmp_path)!r})
        mlflow.set_experiment("callax")
        mlflow.keras.autolog(log_models=False, log_datasets=False)
        rng = np.random.RandomState(0)
        x = rng.normal(size=(32, 3)).astype("float32")
        y = x.sum(1, keepdims=True)
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        history = model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0)
        signature = mlflow.keras.utils.get_model_signature(model).to_dict()
        run = mlflow.last_active_run()
        client = mlflow.MlflowClient()
        logged = {{key: sorted({{(m.step, m.value) for m in client.get_metric_history(
            run.info.run_id, key)}}) for key in history.history}}
        mlflow.keras.autolog(disable=True)
        with mlflow.start_run():  # log the model, load it back as a pyfunc: same predictions
            info = mlflow.keras.log_model(model, name="m", pip_requirements=["callax"])
        reloaded = mlflow.pyfunc.load_model(info.model_uri).predict(x)
        roundtrip = float(np.abs(reloaded - model.predict(x, verbose=0)).max())
        print(json.dumps(dict(params=run.data.params, logged=logged, history=history.history,
                              roundtrip=roundtrip,
                              version=mlflow.keras.save.keras.__version__,
                              signature=signature)))
        """,
        timeout=180,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    params = result["params"]
    assert params["epochs"] == "2" and params["batch_size"] == "16"
    assert params["optimizer_name"] == "adam"
    assert float(params["optimizer_learning_rate"]) == pytest.approx(0.01)
    assert set(result["logged"]) == {"loss", "mae", "val_loss", "val_mae"}
    for key, values in result["history"].items():
        assert result["logged"][key] == [[i, pytest.approx(v)] for i, v in enumerate(values)]
    assert result["version"] == "3.15.1+callax.0.2.0"
    assert result["roundtrip"] == 0.0
    inputs = json.loads(result["signature"]["inputs"])
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]


def test_tqdm_keras_callback_counts_epochs_and_batches():
    pytest.importorskip("tqdm.auto", reason="tqdm is an optional integration")
    out = run_as_keras(
        """
        import io
        import numpy as np
        import keras
        from tqdm.keras import TqdmCallback

        x = np.random.RandomState(0).normal(size=(40, 3)).astype("float32")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        bar = TqdmCallback(verbose=2, file=io.StringIO())
        history = model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0, callbacks=[bar])
        print(bar.epoch_bar.n, bar.epoch_bar.total, bar.batch_bar.total,
              bar.epoch_bar.postfix == f"loss={history.history['loss'][-1]:.3g}")
        """
    )
    assert out.stdout.split() == ["2", "2", "5", "True"]

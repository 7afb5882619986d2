"""The on-disk cache of trained models: keyed by inputs, never fatal when broken."""

from dialogue.nlu import modelcache


def test_models_are_keyed_by_their_inputs_and_a_bad_file_is_ignored(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("LOKET_CACHE", str(tmp_path))
    path = modelcache.model_path("intents", "3", {"a": ["x"]})
    assert path.parent == tmp_path and path.name.startswith("intents-")
    assert path == modelcache.model_path("intents", "3", {"a": ["x"]})
    assert path != modelcache.model_path("intents", "3", {"a": ["y"]})
    assert modelcache.load(path, dict) is None  # nothing cached yet
    modelcache.save(path, {"model": 1})
    assert modelcache.load(path, dict) == {"model": 1}
    assert modelcache.load(path, list) is None  # another kind of model: not used
    path.write_bytes(b"not a pickle")
    assert modelcache.load(path, dict) is None
    assert "ignoring model cache" in caplog.text
    blocked = tmp_path / "file"
    blocked.write_text("")
    modelcache.save(blocked / "sub" / "m.pkl", {"model": 2})  # cannot write: only a warning
    assert "cannot cache the model" in caplog.text

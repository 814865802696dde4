"""Small modules behind the ``keras.src`` paths whose names callax does not hold
under one module already (see ``callax/keras_compat/src_paths.py``)."""

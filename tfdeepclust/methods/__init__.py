"""The three methods, each a ``keras.Model`` subclass owning only its algorithm."""

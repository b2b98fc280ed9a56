"""The project's shared code, laid out as in LSTM-PFD (``packages/core``)."""

"""nn/: the network and its training, both engines.

spec (the sizes that rebuild a model; no torch) -> model (torch module) -> train (tensors -> weights);
reference (NumPy LSTM/GRU from the gate equations) -> numpy_engine (a saved model's forward in NumPy).
Never imports pandas, column names or anything above it.
"""

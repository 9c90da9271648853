"""data/: CSV bytes -> raw table -> time-indexed frame -> float arrays, splits, train-only scaler, window views.

Flow: io (read, sniff) -> numtext, timeindex (cells, time axis) -> frame (columns, gaps, leak guard)
-> labels (a classifier's classes) -> windows (splits, scaler, views). Never imports torch.
"""

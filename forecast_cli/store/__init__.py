"""store/: the model directory on disk.

manifest (the typed owner of manifest.json) -> artifact (save and validated load of the directory),
checkpoint (an interrupted fit's state), atomic (staged directories and files swapped in whole),
lock (one writer per --out). Never pickles; never imports a verb or the CLI.
"""

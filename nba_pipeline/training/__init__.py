"""One training run: samples from season arrays (dataset), the multitask loss, the trainer with
early stopping and resumable checkpoints, the temporal split (fit), predictions and the metrics
every number of the project is scored with. Imports ``models`` and ``features``, never above."""

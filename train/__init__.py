"""The factory: data sources, split, fitting, calibration, evaluation, the MLflow registry, the
report, and the train and retrain jobs."""

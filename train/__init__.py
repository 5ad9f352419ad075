"""Splitting, fitting, calibration, evaluation, MLflow logging and the model registry."""

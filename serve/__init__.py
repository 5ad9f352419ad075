"""The runtime: everything needed to score with a trained model. `serve.model` is the artifact
and scoring, `serve.batch` scores files and Spark tables, `serve.store` keeps the score log and
outcomes, `serve.api` is the scoring API. Nothing here imports `train`."""

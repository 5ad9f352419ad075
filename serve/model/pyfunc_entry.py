"""The file MLflow stores with every lead model and runs when loading it (models from code).

Only MLflow loads this file; it names the class that scores, so nothing is pickled. MLflow puts
the model's `code` folder first on the import path before running it, so the import below finds
the copy of the runtime logged with the model, and leadscore need not be installed (a process
that has already imported `serve`, such as the API, keeps its own).
"""

from mlflow.models import set_model

from serve.model.pyfunc import LeadModelPyfunc

set_model(LeadModelPyfunc())

"""The file MLflow stores with every lead model and runs when loading it (models from code).

Only MLflow loads this file; it names the class that scores, so nothing is pickled.
"""

from mlflow.models import set_model

from serve.model.pyfunc import LeadModelPyfunc

set_model(LeadModelPyfunc())

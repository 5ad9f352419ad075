"""The scoring API for the CRM: settings, the FastAPI app, schemas and the model holder."""

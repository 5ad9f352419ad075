"""The scoring API for the CRM: settings, auth, the model holder, the routers."""

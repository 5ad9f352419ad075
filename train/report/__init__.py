"""The HTML training report and its figures."""

"""The model artifact and everything that scores with it: loading, scoring, reasons, drift."""

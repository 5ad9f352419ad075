"""The lead contract, reading and validating exports, and the encoder frozen into every model."""

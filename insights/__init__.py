"""What the data and the model say, for people: tables, plain-language findings and figures."""

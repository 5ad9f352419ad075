"""Scoring files chunk by chunk in this process, or on Spark."""

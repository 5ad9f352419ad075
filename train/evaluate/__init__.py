"""Judging a model: metrics with intervals, the gates, challenger against champion."""

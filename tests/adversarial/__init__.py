"""Attacks on a running installation: what a broken model version, a hostile client, a crafted
file, a crash or an abused connection does, and that none of it takes the service down, leaks a
secret or loses acknowledged data. Each test goes through the path a user or an attacker takes:
a real `leadscore serve` process, the CLI as a subprocess, a real MLflow registry."""

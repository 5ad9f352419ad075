"""Serving speed: `leadscore serve` beside `mlflow models serve`, same registered model, one run.

Trains the demo model into a temporary MLflow store, starts both servers on loopback (one worker
process each; leadscore with its score log on and API keys required), and drives each with wrk
(a separate process; a Lua script posts the body and reports median, p99, throughput and errors).
Then leadscore again with `--workers 2`, one lead at 16 clients, beside the one-worker figures,
and with the score log written every second instead of before each answer
(LEADSCORE_SCORE_LOG_WAIT_FOR_COMMIT=false), beside the default.
Prints those tables, then where a request's time goes, step by step, in this process. Needs wrk
(`apt-get install -y wrk`).

    .venv/bin/python benchmarks/serving.py [--seconds 10]      # or: make bench-serve
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from features.contract import load_contract
from features.demo import LEAD_FIELDS, generate_leads, write_demo
from serve.api import request_log
from serve.api.answers import json_answer
from serve.api.prometheus import ServiceMetrics
from serve.api.server_logs import JsonFormatter
from serve.model.loading import load_lead_model
from serve.model.reasons import explain
from serve.model.scorer import score_leads
from serve.store.score_log import ScoreLog
from train.pipeline import train_from_file

KEY = "benchmark-key"
FIELDS = list(LEAD_FIELDS)
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local f = io.open("%(body)s", "rb")
wrk.body = f:read("*all")
f:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d, "errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass
class Measurement:
    scenario: str
    server: str
    clients: int
    median_ms: float
    p99_ms: float
    per_second: float
    errors: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/serving.py needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="leadscore-bench-") as folder:
        run(Path(folder), args.seconds)


def run(folder: Path, seconds: int) -> None:
    load_at_start = os.getloadavg()[0]
    tracking = f"sqlite:///{folder / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = tracking
    data = folder / "demo.csv"
    contract = write_demo(data, 5000, seed=7)
    result = train_from_file(data, load_contract(contract))
    bin_dir = Path(sys.executable).parent
    # `mlflow models serve` starts `uvicorn` by name: this environment's must come first
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "PATH": path}
    leadscore_port, mlflow_port = free_port(), free_port()
    leadscore_env = {
        **env,
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{folder / 'leadscore.db'}",
    }
    servers = [
        start(
            [bin_dir / "leadscore", "serve", "--port", str(leadscore_port)],
            leadscore_env,
            folder,
            "leadscore",
        ),
        start(
            [
                bin_dir / "mlflow",
                "models",
                "serve",
                "-m",
                result.model_uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(mlflow_port),
                "-w",
                "1",
            ],
            env,
            folder,
            "mlflow",
        ),
    ]
    try:
        leadscore = f"http://127.0.0.1:{leadscore_port}"
        mlflow_url = f"http://127.0.0.1:{mlflow_port}"
        wait_ready(f"{leadscore}/ready", servers[0])
        wait_ready(f"{mlflow_url}/ping", servers[1])
        measurements = measure_all(folder, leadscore, mlflow_url, seconds)
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=30)
    workers = measure_workers(folder, bin_dir, leadscore_env, seconds)
    interval = measure_interval_writes(folder, bin_dir, leadscore_env, seconds)
    print_table(measurements, result.trees, seconds, load_at_start)
    print_workers(measurements, workers)
    print_durability(measurements, interval)
    print_breakdown(result.model_uri)


def measure_workers(folder: Path, bin_dir: Path, env: dict, seconds: int) -> Measurement:
    """One lead without reasons at 16 clients on `leadscore serve --workers 2`."""
    port = free_port()
    command = [bin_dir / "leadscore", "serve", "--port", str(port), "--workers", "2"]
    server = start(command, env, folder, "leadscore-2-workers")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/ready", server)
        wait_for_workers(base, 2, server)
        url = f"{base}/v1/score?reasons=false"
        found = measure(folder, "1 lead, no reasons", "leadscore, 2 workers", url,
                        folder / "one.json", 16, seconds)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=60)
    print("measured 1 lead, no reasons on leadscore with 2 workers", file=sys.stderr)
    return found


def measure_interval_writes(
    folder: Path, bin_dir: Path, env: dict, seconds: int
) -> list[Measurement]:
    """The default's scenarios again with the score log written every second rather than
    committed before each answer: what the durability of acknowledged scores costs."""
    port = free_port()
    command = [bin_dir / "leadscore", "serve", "--port", str(port)]
    env = {**env, "LEADSCORE_SCORE_LOG_WAIT_FOR_COMMIT": "false"}
    server = start(command, env, folder, "leadscore-interval-writes")
    url = f"http://127.0.0.1:{port}/v1/score?reasons=false"
    try:
        wait_ready(f"http://127.0.0.1:{port}/ready", server)
        found = [
            measure(folder, scenario, "leadscore, interval", url, folder / body, clients, seconds)
            for scenario, body, clients in DURABILITY_PLAN
        ]
    finally:
        server.terminate()
        server.wait(timeout=60)
    print("measured leadscore with the score log written every second", file=sys.stderr)
    return found


DURABILITY_PLAN = [
    ("1 lead, no reasons", "one.json", 1),
    ("1 lead, no reasons", "one.json", 16),
    ("1,000 leads, no reasons", "batch.json", 1),
]


def wait_for_workers(base: str, count: int, process: subprocess.Popen, timeout: float = 180):
    """/ready answers once one worker is up; /metrics names every worker serving a model."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{base}: the server exited")
        text = httpx.get(f"{base}/metrics", headers={"X-API-Key": KEY}, timeout=10).text
        pids = {
            sample.labels["pid"]
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "leadscore_model_info" and sample.value == 1
        }
        if len(pids) >= count:
            return
        time.sleep(0.3)
    sys.exit(f"{base}: {count} workers not serving after {timeout} s")


def measure_all(folder: Path, leadscore: str, mlflow_url: str, seconds: int) -> list:
    leads = generate_leads(1000, seed=99)[FIELDS]
    one = json.loads(leads.head(1).to_json(orient="records"))
    batch = json.loads(leads.to_json(orient="records"))
    bodies = {
        "one": {"leads": one},
        "batch": {"leads": batch},
        "mlflow one": {"dataframe_records": one},
        "mlflow batch": {"dataframe_records": batch},
    }
    files = {}
    for name, body in bodies.items():
        files[name] = folder / f"{name.replace(' ', '-')}.json"
        files[name].write_text(json.dumps(body))
    check_same_answers(leadscore, mlflow_url, bodies)
    plan = [
        ("1 lead, no reasons", "leadscore", f"{leadscore}/v1/score?reasons=false", "one", 1),
        ("1 lead, no reasons", "mlflow", f"{mlflow_url}/invocations", "mlflow one", 1),
        ("1 lead, no reasons", "leadscore", f"{leadscore}/v1/score?reasons=false", "one", 16),
        ("1 lead, no reasons", "mlflow", f"{mlflow_url}/invocations", "mlflow one", 16),
        ("1 lead, reasons", "leadscore", f"{leadscore}/v1/score?reasons=true", "one", 1),
        ("1 lead, reasons", "leadscore", f"{leadscore}/v1/score?reasons=true", "one", 16),
        ("1,000 leads, no reasons", "leadscore", f"{leadscore}/v1/score?reasons=false", "batch", 1),
        ("1,000 leads, no reasons", "mlflow", f"{mlflow_url}/invocations", "mlflow batch", 1),
        ("1,000 leads, reasons", "leadscore", f"{leadscore}/v1/score?reasons=true", "batch", 1),
    ]
    results = []
    for scenario, server, url, body, clients in plan:
        results.append(measure(folder, scenario, server, url, files[body], clients, seconds))
        print(f"measured {scenario} on {server} with {clients} clients", file=sys.stderr)
    return results


def measure(folder, scenario, server, url, body_file, clients, seconds) -> Measurement:
    script = folder / "post.lua"
    script.write_text(WRK_SCRIPT % {"key": KEY, "body": body_file})
    threads = min(clients, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    subprocess.run([*command[:3], "-d2s", *command[4:]], capture_output=True, check=True)  # warm up
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    found = json.loads(line.removeprefix("RESULT "))
    return Measurement(
        scenario,
        server,
        clients,
        found["p50_us"] / 1000,
        found["p99_us"] / 1000,
        found["requests"] / found["seconds"],
        found["errors"],
    )


def check_same_answers(leadscore: str, mlflow_url: str, bodies: dict) -> None:
    """Both servers must give the same probabilities before their speed means anything."""
    headers = {"Authorization": f"Bearer {KEY}"}
    ours = httpx.post(f"{leadscore}/v1/score", json=bodies["batch"], headers=headers, timeout=60)
    theirs = httpx.post(f"{mlflow_url}/invocations", json=bodies["mlflow batch"], timeout=60)
    ours.raise_for_status()
    theirs.raise_for_status()
    mine = [s["probability"] for s in ours.json()["scores"]]
    other = [p["probability"] for p in theirs.json()["predictions"]]
    if max(abs(a - b) for a, b in zip(mine, other, strict=True)) > 1e-9:
        sys.exit("leadscore and mlflow models serve disagree; the benchmark would be meaningless")


def print_table(
    measurements: list[Measurement], trees: int, seconds: int, load_at_start: float
) -> None:
    print(
        f"\nServing speed, one worker process each, loopback, wrk for {seconds} s per row; "
        f"model of {trees} trees; {os.cpu_count()} cores, load average {load_at_start:.1f} "
        f"at the start and {os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| scenario | server | clients | median ms | p99 ms | requests/s | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for m in measurements:
        print(
            f"| {m.scenario} | {m.server} | {m.clients} | {m.median_ms:.2f} | {m.p99_ms:.2f} "
            f"| {m.per_second:,.0f} | {m.errors} |"
        )
    ours = {(m.scenario, m.clients): m for m in measurements if m.server == "leadscore"}
    theirs = {(m.scenario, m.clients): m for m in measurements if m.server == "mlflow"}
    for key in sorted(ours.keys() & theirs.keys()):
        ratio = ours[key].per_second / theirs[key].per_second
        print(f"\n{key[0]}, {key[1]} clients: leadscore serves {ratio:.1f}x the requests/s")


def print_workers(measurements: list[Measurement], two: Measurement) -> None:
    one = next(
        m
        for m in measurements
        if (m.scenario, m.server, m.clients) == (two.scenario, "leadscore", two.clients)
    )
    print(f"\n{two.scenario}, {two.clients} clients, by worker processes:\n")
    print("| workers | median ms | p99 ms | requests/s | errors |\n|---:|---:|---:|---:|---:|")
    for count, m in ((1, one), (2, two)):
        figures = f"{m.median_ms:.2f} | {m.p99_ms:.2f} | {m.per_second:,.0f} | {m.errors}"
        print(f"| {count} | {figures} |")


def print_durability(measurements: list[Measurement], interval: list[Measurement]) -> None:
    committed = {(m.scenario, m.clients): m for m in measurements if m.server == "leadscore"}
    print("\nScore log committed before each answer (default) or written every second:\n")
    print("| scenario | clients | score log | median ms | p99 ms | requests/s | errors |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for every_second in interval:
        before = committed[(every_second.scenario, every_second.clients)]
        for mode, m in (("before each answer", before), ("every second", every_second)):
            print(
                f"| {m.scenario} | {m.clients} | {mode} | {m.median_ms:.2f} | {m.p99_ms:.2f} "
                f"| {m.per_second:,.0f} | {m.errors} |"
            )


def print_breakdown(model_uri: str, repeats: int = 30) -> None:
    """Where a request's time goes, step by step in this process: the fastest of `repeats`
    runs is the step's own cost, the median shows what sharing the machine adds."""
    model = load_lead_model(model_uri).model
    leads = generate_leads(1000, seed=99)[FIELDS]
    batch = json.loads(leads.to_json(orient="records"))
    one = batch[:1]
    matrix = model.encoder.encode_records(batch)
    explained = score_leads(model, batch, reasons=True)
    score_log = ScoreLog(sa.create_engine("sqlite://"))  # record() only queues
    metrics = ServiceMetrics()
    request_line = _request_line_to_nowhere()
    steps = [
        ("1 lead: encode", lambda: model.encoder.encode_records(one)),
        ("1 lead: score log record", lambda: score_log.record(one, ["L"], [0.5], "1", ())),
        ("1 lead: metrics (request, latency, tier)", lambda: _count(metrics)),
        ("1 lead: JSON request log line", request_line),
        ("1,000 leads: encode", lambda: model.encoder.encode_records(batch)),
        ("1,000 leads: probabilities", lambda: model.probabilities(matrix)),
        ("1,000 leads: contributions (pred_contrib)", lambda: model.contributions(matrix)),
        ("1,000 leads: reasons (contributions included)", lambda: explain(model, batch, matrix)),
        ("1,000 leads: JSON answer with reasons", lambda: json_answer(explained, "1", None)),
    ]
    print("\n| step, in one process | fastest ms | median ms |\n|---|---:|---:|")
    for name, step in steps:
        times = sorted(_seconds(step, repeats))
        print(f"| {name} | {times[0] * 1000:.3f} | {times[repeats // 2] * 1000:.3f} |")


def _count(metrics: ServiceMetrics) -> None:
    metrics.request("/v1/score", "POST", 200, 0.0006)
    metrics.scored(["A"], with_reasons=False)


def _request_line_to_nowhere():
    """The request log's line for one request, formatted as JSON and written to /dev/null."""
    logger = logging.getLogger(request_log.__name__)
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - for the whole run
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    scope = {"method": "POST", "path": "/v1/score"}
    facts = request_log.RequestFacts("crm-req-42", "1", 1)
    return lambda: request_log._log_line(scope, 200, 0.0006, facts)


def _seconds(step, repeats: int) -> list[float]:
    step()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return times


def start(command: list, env: dict, folder: Path, name: str) -> subprocess.Popen:
    log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the process's life
    return subprocess.Popen(
        [str(c) for c in command], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
    )


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the server exited")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit(f"{url} not ready after {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()

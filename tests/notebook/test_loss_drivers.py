"""The loss-drivers notebook: stored without outputs, in step with its jupytext twin, and run top
to bottom on demo leads with a model trained into a temporary MLflow store."""

import re
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import papermill
import pytest
from ipykernel.kernelspec import install as install_kernel

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = NOTEBOOKS / "loss_drivers.ipynb"
TWIN = NOTEBOOKS / "loss_drivers.py"
KERNEL = "leadscore"
CELL_TIMEOUT_SECONDS = 120
EVERYTHING = {"conclusion", "table", "figure"}
EXPECTED_PER_SECTION = {
    1: EVERYTHING,
    2: EVERYTHING,
    3: EVERYTHING,
    4: EVERYTHING,
    5: EVERYTHING,
    6: {"conclusion"},
}


def cells_of(notebook) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (cell.cell_type, cell.source.strip(), tuple(cell.metadata.get("tags", [])))
        for cell in notebook.cells
    ]


def test_stored_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    assert code
    with_outputs = [
        i for i in code if notebook.cells[i].outputs or notebook.cells[i].execution_count
    ]
    assert not with_outputs, f"cells {with_outputs} hold outputs: run `make notebook-strip`"


def test_twin_holds_the_same_cells():
    notebook, twin = nbformat.read(NOTEBOOK, as_version=4), jupytext.read(TWIN)
    assert cells_of(twin) == cells_of(notebook), "out of step: run `make notebook-strip`"
    assert notebook.metadata["kernelspec"]["name"] == KERNEL
    assert ("parameters",) in [tags for _, _, tags in cells_of(notebook)]


@pytest.fixture
def project_kernel(tmp_path, monkeypatch) -> str:
    """The notebook's kernel name, bound to this interpreter (the project's .venv)."""
    prefix = tmp_path / "jupyter"
    install_kernel(kernel_name=KERNEL, prefix=str(prefix))
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    return KERNEL


def outputs_per_section(notebook) -> dict[int, dict[str, list[str]]]:
    """For each numbered section: its conclusions (Markdown text) and how many tables and
    figures it showed, plus anything written to stderr."""
    sections: dict[int, dict[str, list[str]]] = {}
    current = 0
    for cell in notebook.cells:
        heading = re.match(r"## (\d+)\.", cell.source) if cell.cell_type == "markdown" else None
        if heading:
            current = int(heading.group(1))
        if cell.cell_type != "code":
            continue
        found = sections.setdefault(
            current, {"conclusion": [], "table": [], "figure": [], "stderr": []}
        )
        for output in cell.outputs:
            data = output.get("data", {})
            if output.output_type == "stream" and output.name == "stderr":
                found["stderr"].append(output.text)
            elif "text/markdown" in data:
                found["conclusion"].append(data["text/markdown"])
            elif "image/png" in data:
                found["figure"].append("png")
            elif "<table" in data.get("text/html", ""):
                found["table"].append("html")
    return sections


@pytest.mark.slow
def test_notebook_runs_on_demo_leads_and_every_section_shows_its_results(
    trained_model, project_kernel, tmp_path
):
    recycle = tmp_path / "recycle.csv"
    executed = papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters={
            "data_path": str(trained_model.data),
            "contract_path": str(trained_model.contract),
            "model_uri": "models:/leadscore@champion",
            "mlflow_tracking_uri": trained_model.tracking_uri,
            "recycle_csv": str(recycle),
        },
        kernel_name=project_kernel,
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        execution_timeout=CELL_TIMEOUT_SECONDS,
    )
    sections = outputs_per_section(executed)
    assert sorted(s for s in sections if s) == sorted(EXPECTED_PER_SECTION)
    for number, expected in EXPECTED_PER_SECTION.items():
        shown = {kind for kind, items in sections[number].items() if items and kind != "stderr"}
        assert shown == expected, f"section {number} showed {shown}, expected {expected}"
    assert not any(found["stderr"] for found in sections.values()), sections

    leads = len(pd.read_csv(trained_model.data))
    assert f"Of **{leads:,}** leads" in sections[1]["conclusion"][0]
    candidates = pd.read_csv(recycle)
    assert len(candidates) > 0 and (candidates["tier"].isin(["A", "B"])).all()
    assert any(
        f"**{len(candidates):,}** of them score" in text for text in sections[5]["conclusion"]
    )
    assert "`leaky_columns` is empty" in sections[6]["conclusion"][0]

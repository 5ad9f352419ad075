"""The board in a real headless Chromium against a real `leadscore serve` process, its store
filled by `leadscore demo-traffic` (weeks of history) and by leads and outcomes posted over
HTTP, one of them carrying personal fields. Screenshots at desktop and phone width are saved to
tests/board/screenshots/ (ignored by git)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from features.demo import LEAD_FIELDS, generate_leads
from tests.board import browser
from tests.board.expected import lead_rows, within
from tests.conftest import start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (browser.CHROMIUM.exists() and browser.CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]

KEY, READER = "board-browser-key", "board-browser-reader"
SECRET = "Vb8-Qm2xLr5tWn9KpZ4cYh7JdF3sGa6E"
PII_EMAIL, PII_NAME = "zebedee.q@pii-marker.example", "Zebedee Quarrington"
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def board_server(trained_model, tmp_path_factory):
    """A server on a store with eight weeks of demo traffic and 60 leads posted over HTTP."""
    folder = tmp_path_factory.mktemp("board")
    store = f"sqlite:///{folder / 'store.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_DATABASE_URL": store,
        "LEADSCORE_MODEL_CACHE_DIR": str(folder / "cache"),
    }
    filled = subprocess.run(
        [sys.executable, "-m", "leadscore_cli", "demo-traffic", "--weeks", "8"]
        + ["--leads-per-day", "25"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert filled.returncode == 0, filled.stderr
    server = start_server(
        folder,
        {
            **env,
            "LEADSCORE_API_KEYS": KEY,
            "LEADSCORE_READ_ONLY_KEYS": READER,
            "LEADSCORE_SESSION_SECRET": SECRET,
            "LEADSCORE_BOARD_CACHE_SECONDS": "0",
            "LEADSCORE_SCORE_LOG_FLUSH_SECONDS": "0.1",
        },
    )
    try:
        post_leads(server.base)
        yield server, store
    finally:
        server.stop()


def post_leads(base: str) -> None:
    leads = generate_leads(60, seed=77)
    leads["lead_id"] = [f"WEB-{i}" for i in range(len(leads))]
    sent = leads[[*LEAD_FIELDS, "deal_value"]].astype(object)
    records = sent.where(sent.notna(), None).to_dict("records")
    records[0] |= {"contact_email": PII_EMAIL, "contact_name": PII_NAME}
    with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=30) as client:
        assert client.post("/v1/score", json={"leads": records}).status_code == 200
        outcomes = [
            {"lead_id": lead, "outcome": "lost", "loss_reason": "Price" if i % 2 else None}
            for i, lead in enumerate(leads["lead_id"][:20])
        ]
        assert client.post("/v1/outcomes", json={"outcomes": outcomes}).status_code == 200


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    driver = browser.chromium(downloads)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def signed_in(board_server, chrome):
    server, store = board_server
    sign_in(chrome, server.base, READER)
    yield chrome, server, store
    chrome.delete_all_cookies()


def sign_in(driver, base: str, key: str) -> None:
    driver.get(f"{base}/board")
    assert driver.current_url == f"{base}/board/sign-in"
    enter_key(driver, key)


def enter_key(driver, key: str) -> None:
    driver.find_element(By.ID, "key").send_keys(key)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def click_and_wait(driver, element) -> None:
    """Click something that loads a page, and wait until the old page is gone. While the page
    is being replaced Chromium may answer a question about the old element with an inspector
    error instead of "stale element"; that too means: not yet, ask again."""
    element.click()
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(staleness_of(element))


def table(driver, table_id: str) -> dict[str, list[str]]:
    """The rows of a table, keyed by their header cell."""
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    found = {}
    for row in rows:
        cells = row.find_elements(By.CSS_SELECTOR, "th, td")
        found[cells[0].text] = [cell.text for cell in cells[1:]]
    return found


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip() or "nan")


def test_sign_in_and_sign_out(board_server, chrome):
    server, _ = board_server
    chrome.get(f"{server.base}/board")
    assert chrome.current_url.endswith("/board/sign-in")
    enter_key(chrome, "not-a-key")
    assert "That key is not accepted." in chrome.find_element(By.CSS_SELECTOR, "[role=alert]").text
    enter_key(chrome, KEY)
    assert chrome.current_url == f"{server.base}/board"
    assert [h.text for h in chrome.find_elements(By.TAG_NAME, "h2")] == [
        "1. What a qualified lead is",
        "2. This week's leads",
        "3. How the handoff is going",
        "4. Why deals are lost",
        "5. Back to marketing",
        "6. Model health",
    ]
    cookie = chrome.get_cookie("leadscore_board")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expiry"]
    click_and_wait(chrome, chrome.find_element(By.XPATH, "//button[text()='Sign out']"))
    assert chrome.current_url.endswith("/board/sign-in")
    chrome.get(f"{server.base}/board")
    assert chrome.current_url.endswith("/board/sign-in")


def test_every_section_matches_the_rows(signed_in):
    driver, server, store = signed_in
    rows = lead_rows(store)
    week, window = within(rows, 7), within(rows, 90)
    assert len(rows) == 8 * 7 * 25 + 60

    for line in driver.find_elements(By.CSS_SELECTOR, "p.headline"):
        assert line.text.strip()  # every section says something
    reliance = table(driver, "table-reliance")
    with httpx.Client(base_url=server.base, headers={"X-API-Key": READER}) as client:
        model = client.get("/v1/model").json()
    assert set(reliance) == set(model["expected_fields"])
    assert {r[0] for r in reliance.values()} == {"fit", "engagement"}
    shares = table(driver, "table-tiers")
    for tier, part in window.groupby("tier"):
        assert number(shares[tier][1]) == pytest.approx(100 * len(part) / len(window), abs=0.05)

    per_tier = table(driver, "table-week-tiers")
    for tier in "ABCD":
        part = week[week["tier"] == tier]
        assert number(per_tier[tier][0]) == len(part)
        assert number(per_tier[tier][1]) == part["outcome"].isna().sum()
        assert number(per_tier[tier][2]) == pytest.approx(part["expected_value"].sum(), abs=1)
    per_source = table(driver, "table-week-sources")
    assert {s: number(v[0]) for s, v in per_source.items()} == week[
        "source"
    ].value_counts().to_dict()
    unworked = week[(week["tier"] == "A") & week["outcome"].isna()]
    heading = driver.find_element(By.ID, "unworked-title").text
    assert heading == f"Tier-A leads not yet worked: {len(unworked):,}"

    handoff = table(driver, "table-handoff-tiers")
    for tier, part in window.groupby("tier"):
        scored, won, lost, open_ = (number(v) for v in handoff[tier][:4])
        assert (scored, won, lost) == (
            len(part),
            (part["outcome"] == "won").sum(),
            (part["outcome"] == "lost").sum(),
        )
        assert open_ == part["outcome"].isna().sum()
    sources = table(driver, "table-handoff-sources")
    for source, part in window.groupby("source"):
        assert number(sources[source][0]) == len(part)
        assert number(sources[source][1]) == part["outcome"].notna().sum()

    lost = window[window["outcome"] == "lost"]
    reasons = table(driver, "table-loss-reasons")
    assert number(reasons["(no reason given)"][0]) == lost["loss_reason"].isna().sum() > 0
    for reason, count in lost["loss_reason"].value_counts().items():
        assert number(reasons[reason][0]) == count
    assert f"Of {len(lost):,} lost deals" in driver.find_element(By.ID, "losses-headline").text

    health = table(driver, "table-health")
    assert health["model"][0] == "leadscore version 1, from the registry"
    metrics = table(driver, "table-metrics")
    assert number(metrics["roc_auc"][0]) == pytest.approx(model["metrics"]["roc_auc"], abs=1e-4)
    assert "train" in driver.find_element(By.ID, "decision").text


def test_filters_change_the_figures(signed_in):
    driver, _, store = signed_in
    before = table(driver, "table-week-tiers")
    Select(driver.find_element(By.ID, "window")).select_by_value("30")
    Select(driver.find_element(By.ID, "source")).select_by_value("Referral")
    Select(driver.find_element(By.ID, "tier")).select_by_value("B")
    click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Show']"))
    assert driver.current_url.endswith("/board?window=30&source=Referral&tier=B")
    rows = lead_rows(store)
    week = within(rows, 7, "Referral", "B")
    after = table(driver, "table-week-tiers")
    assert number(after["B"][0]) == len(week)
    assert number(after["A"][0]) == 0 and after != before
    assert set(table(driver, "table-week-sources")) <= {"Referral"}
    assert set(table(driver, "table-handoff-tiers")) == {"B"}
    assert set(table(driver, "table-handoff-sources")) == {"Referral"}
    lost = within(rows, 30, "Referral", "B")
    lost = lost[lost["outcome"] == "lost"]
    reasons = table(driver, "table-loss-reasons")
    assert sum(number(v[0]) for v in reasons.values()) == len(lost)
    assert Select(driver.find_element(By.ID, "window")).first_selected_option.text == "last 30 days"


def test_the_csv_download_holds_the_stalled_leads(signed_in):
    driver, server, _ = signed_in
    link = driver.find_element(By.ID, "stalled-csv")
    link.click()
    downloaded = browser.wait_for_file(driver.downloads, "stalled-leads.csv")
    lines = list(csv.DictReader(io.StringIO(downloaded.read_text())))
    with httpx.Client(base_url=server.base, headers={"X-API-Key": READER}) as client:
        api = client.get("/v1/leads/stalled", headers={"Accept": "text/csv"}).text
    assert [line["lead_id"] for line in lines] == [
        line["lead_id"] for line in csv.DictReader(io.StringIO(api))
    ]
    assert len(lines) > 0 and f"{len(lines):,} stalled leads (CSV)" in link.text
    shown = list(table(driver, "table-stalled"))
    assert shown == [line["lead_id"] for line in lines][: len(shown)]


def test_no_console_errors_and_no_request_leaves_the_machine(signed_in):
    driver, server, _ = signed_in
    driver.get_log("browser")  # drained: what earlier pages logged (a refused sign-in) is theirs
    driver.get(f"{server.base}/board?window=365")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    resources = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).map(e => e.name)"
    )
    assert resources and all(name.startswith(server.base) for name in resources)
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        assert driver.find_elements(By.CSS_SELECTOR, f"{tag}[{attribute}]") == []


def test_a_personal_field_sent_with_a_lead_never_reaches_the_page(signed_in):
    driver, server, _ = signed_in
    for query in ("", "?window=30", "?window=365&tier=A", "?source=Referral"):
        driver.get(f"{server.base}/board{query}")
        page = driver.page_source
        assert PII_EMAIL not in page and PII_NAME not in page
        assert "contact_email" not in page and "contact_name" not in page


def test_a_read_only_key_cannot_post_outcomes(board_server):
    server, _ = board_server
    outcome = {"outcomes": [{"lead_id": "WEB-1", "outcome": "won"}]}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        refused = client.post("/v1/outcomes", json=outcome, headers={"X-API-Key": READER})
        assert refused.status_code == 403
        assert client.get("/v1/performance", headers={"X-API-Key": READER}).status_code == 200


def test_screenshots_at_desktop_and_phone_width(signed_in):
    driver, server, _ = signed_in
    driver.get(f"{server.base}/board")
    browser.full_page_screenshot(driver, browser.DESKTOP[0], SCREENSHOTS / "board-desktop.png")
    driver.set_window_size(*browser.PHONE)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0  # nothing wider than a phone: wide tables scroll inside their box
    browser.full_page_screenshot(driver, browser.PHONE[0], SCREENSHOTS / "board-phone.png")
    assert (SCREENSHOTS / "board-phone.png").stat().st_size > 10_000

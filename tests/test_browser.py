"""The prediction stepper of lesson 06 in a real browser: JupyterLab driven by headless Chromium.

The test writes a small notebook holding the widget part of lesson 06 (synthetic examples, a
"model" that shifts each true mask further, ``stepper_widget.prediction_stepper``), starts
JupyterLab on 127.0.0.1, opens the notebook in Debian's Chromium through Playwright (no browser
download), runs all cells from the *Run* menu, then clicks *Next ▶* and moves the slider,
checking each time that the shown picture and the IoU caption change.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
)

CELLS = [
    f"import sys\n\nsys.path.insert(0, {str(ROOT)!r})  # labutils from this checkout",
    """import cv2
import numpy as np

from labutils import stepper_widget
from labutils.sources import synthetic


def example(index, size=96):
    scene = synthetic.make_scene(index)
    image = cv2.resize(scene["image"], (size, size), interpolation=cv2.INTER_AREA)
    trimap = cv2.resize(scene["segmentation_mask"], (size, size), interpolation=cv2.INTER_NEAREST)
    return image, trimap - 1  # (size, size, 3) uint8; (size, size) uint8, values 0..2


images, masks = map(np.stack, zip(*(example(i) for i in range(600, 606))))
pred_masks = np.stack([np.roll(m, 3 * k, axis=1) for k, m in enumerate(masks)])  # k: worse""",
    "stepper_widget.prediction_stepper(images, masks, pred_masks)",
]


def write_notebook(path: Path) -> None:
    """A notebook of CELLS with the python3 kernel (nbformat 4 JSON)."""
    cells = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s}
        for s in CELLS
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4}
    path.write_text(json.dumps(notebook | {"nbformat_minor": 5}))


#: JupyterLab settings of the test's user: start the notebook's kernel without asking, no news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}


def write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Poll the server's status API until it answers, or fail with its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a folder with the stepper notebook; yields (base URL, token)."""
    notebooks, home = tmp_path / "notebooks", tmp_path / "jupyter"
    notebooks.mkdir()
    write_notebook(notebooks / "stepper.ipynb")
    write_lab_settings(home / "settings")
    port, token = free_port(), secrets.token_hex(16)
    env = os.environ | {
        "SEGLAB_DATA": "synthetic",
        "MPLBACKEND": "Agg",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}", "--ServerApp.port_retries=0",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
        "--ServerApp.allow_root=True",  # CI containers run as root
    ]  # fmt: skip
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", server, log)
        yield base, token
    finally:
        shut_down(server, f"{base}/api/shutdown?token={token}")


def shut_down(server: subprocess.Popen, shutdown_url: str) -> None:
    """Ask the server to stop (it stops its kernels too); terminate it if it does not."""
    try:
        urllib.request.urlopen(urllib.request.Request(shutdown_url, method="POST"), timeout=5)
    except (urllib.error.URLError, ConnectionError):
        pass  # already gone, or not answering: terminate below
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.terminate()
        server.wait(timeout=10)


def shown(page) -> tuple[str, str]:
    """The stepper's caption text and its picture's src."""
    caption = page.locator(".seglab-iou").inner_text()
    return caption, page.locator("img.seglab-view").get_attribute("src")


def wait_for_change(page, before: tuple[str, str]) -> tuple[str, str]:
    """Wait until both the caption and the picture differ from ``before``; return them."""
    page.wait_for_function(
        """([caption, src]) => {
            const text = document.querySelector('.seglab-iou')?.innerText;
            const img = document.querySelector('img.seglab-view')?.getAttribute('src');
            return text && img && text !== caption && img !== src;
        }""",
        arg=list(before),
        timeout=TIMEOUT_MS,
    )
    return shown(page)


def test_stepper_moves_in_jupyterlab(lab):
    base, token = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{base}/lab/tree/stepper.ipynb?token={token}")
            kernel_idle = re.compile(r"Python 3 \(ipykernel\) \| Idle")  # in the status bar
            page.locator(".jp-StatusBar-TextItem", has_text=kernel_idle).wait_for()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()

            page.wait_for_function(
                "document.querySelector('.seglab-iou')?.innerText.includes('mean IoU')"
            )
            page.locator("img.seglab-view[src]").wait_for()
            first = shown(page)
            assert first[0].startswith("image 0 · 1 of 6") and "mean IoU 1.000" in first[0]

            page.get_by_role("button", name="Next ▶").click()
            after_next = wait_for_change(page, first)
            assert after_next[0].startswith("image 1 · 2 of 6")

            page.locator(".noUi-handle").first.press("End")  # the slider's knob, to the end
            after_slider = wait_for_change(page, after_next)
            assert after_slider[0].startswith("image 5 · 6 of 6")
        finally:
            browser.close()

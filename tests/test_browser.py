"""The explorer in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium driven by Selenium.

What no headless test of the Python side can see: the ipywidgets front end loads in JupyterLab, the
figure arrives as an image, a slider dragged with the mouse reaches the kernel and comes back as a
new image, the busy line shows while the kernel works, and at a 1024 px wide window the control rows
neither scroll sideways nor truncate their labels.

Needs ``chromium`` and ``chromium-driver`` (Debian packages; ``.ci/run`` installs them) and the
``test`` extra (``selenium``, ``jupyterlab``).  A missing piece is a failure with the command that
installs it, never a skip: a skipped browser test would pass CI without testing anything.

Example: ``python -m pytest -q tests/test_browser.py``.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1024, 900
K_LABEL = "k = elr·Σα"
NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "explore", "metadata": {}, "outputs": [],
               "source": ["import toyregimes as tr\n", "tr.explore(alpha=[1, 2, 3], k=1.5, steps=2000)"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
# the texts that mean a widget or the kernel failed (ipywidgets' own error views, a Python traceback)
FAILURE_TEXTS = ("Traceback", "Error displaying widget", "Failed to load model class", "unexpected ",
                 "Error:", "model not found")


def _require_tools():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"the browser test needs {missing}: apt-get install -y chromium chromium-driver "
                    "(.ci/run does this)", pytrace=False)
    try:
        import jupyterlab  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the browser test needs the test extra: pip install -e '.[test]' ({exc})", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, predicate, timeout: float, every: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}", pytrace=False)
        time.sleep(every)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a folder with one notebook that opens the explorer; yields (url, token, log path)."""
    _require_tools()
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"  # what the server shows: the notebook only (config and runtime live beside it)
    root.mkdir()
    (root / "explore.ipynb").write_text(json.dumps(NOTEBOOK))
    # user settings of this throw-away Lab: start the notebook's kernel without asking, no news toast
    for plugin, settings in (("notebook-extension/tracker", {"autoStartDefaultKernel": True}),
                             ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False})):
        path = home / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    port, token = _free_port(), os.urandom(16).hex()
    env = dict(os.environ)
    # the kernel imports this checkout (not another install), and nothing is read from or written to ~
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("IPYTHONDIR", "ipython")):
        env[var] = str(home / sub)
    env["MPLBACKEND"] = "Agg"
    log = home / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
           "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run the cell through Lab's own command
           # no network: no news, no update check, no PyPI extension manager
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that unless told
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    # meanwhile compile (or load from Numba's cache) what the notebook's first run needs, in this process
    from toyregimes.explore import ExplorerModel

    ExplorerModel(alpha=[1, 2, 3], k=1.5, steps=2000).compute()

    def up():
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        _wait("JupyterLab to answer", up, timeout=60)
        yield url, token, log
    finally:
        _stop(proc, url, token)


def _stop(proc, url, token):
    """A clean shutdown (it also stops the kernel); else kill our own process group, nothing else."""
    if proc.poll() is not None:
        return
    try:
        req = urllib.request.Request(f"{url}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(req, timeout=5).close()
        proc.wait(timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)  # the group of start_new_session: the server and its kernel
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require_tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_window_size(WIDTH, HEIGHT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# JavaScript run in the page ---------------------------------------------------------------------------
KERNEL_IDLE = """
const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
return !!(kernel && kernel.status === 'idle' && w.content && w.content.widgets.length);
"""
# the shown image's address (a new blob: URL for every new image; cheap enough to poll) ...
IMAGE_SRC = """
const img = [...document.querySelectorAll('.jp-OutputArea .widget-image')].find(i => i.offsetParent !== null);
return img && img.complete && img.naturalWidth > 0 ? img.src : null;
"""
# ... and its pixels, to check that a new address really is a different picture
IMAGE_DIGEST = """
const img = [...document.querySelectorAll('.jp-OutputArea .widget-image')].find(i => i.offsetParent !== null);
if (!img || !img.complete || img.naturalWidth === 0) return null;
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
c.getContext('2d').drawImage(img, 0, 0);
return c.toDataURL('image/png');
"""
# every text the status lines (ipywidgets HTML) show from now on, in order: the busy line is brief
WATCH_STATUS = """
window.__statusSeen = [];
const out = document.querySelector('.jp-OutputArea');
new MutationObserver(() => {
  for (const h of out.querySelectorAll('.widget-html')) window.__statusSeen.push(h.innerText);
}).observe(out, {subtree: true, childList: true, characterData: true});
// the latency the user sees: from releasing the mouse to a new image on the page
document.addEventListener('pointerup', () => { window.__releasedAt = performance.now(); }, true);
new MutationObserver(() => { window.__imageAt = performance.now(); })
  .observe(out, {subtree: true, attributes: true, attributeFilter: ['src']});
"""
LAYOUT_PROBLEMS = """
const root = [...document.querySelectorAll('.jp-OutputArea .widget-tab')][0];
const shown = el => el.offsetParent !== null;
const problems = [];
const boxes = '.widget-vbox, .widget-tab > .lm-TabPanel-stackedPanel, .widget-tab-contents';
for (const box of root.querySelectorAll(boxes)) {
  if (shown(box) && box.scrollWidth > box.clientWidth + 1)
    problems.push(`tab scrolls sideways: ${box.scrollWidth} > ${box.clientWidth} px`);
}
for (const row of root.querySelectorAll('.widget-hbox')) {
  if (shown(row) && row.scrollWidth > row.clientWidth + 1)
    problems.push(`row scrolls: ${row.scrollWidth} > ${row.clientWidth} px: ${row.innerText.slice(0, 60)}`);
}
for (const lab of root.querySelectorAll('.widget-label, .widget-label-basic')) {
  if (shown(lab) && lab.scrollWidth > lab.clientWidth + 1)
    problems.push(`label truncated: '${lab.innerText}' (${lab.scrollWidth} > ${lab.clientWidth} px)`);
}
for (const b of root.querySelectorAll('.widget-toggle-button')) {
  if (shown(b) && b.scrollWidth > b.clientWidth + 1) problems.push(`button text truncated: '${b.innerText}'`);
}
for (const t of root.querySelectorAll('.widget-toggle-buttons')) {  // label beside the buttons, not above
  const lab = t.querySelector('.widget-label'), btn = t.querySelector('.widget-toggle-button');
  if (shown(t) && lab.innerText && lab.getBoundingClientRect().bottom <= btn.getBoundingClientRect().top)
    problems.push(`label '${lab.innerText}' wrapped above its buttons`);
}
for (const s of root.querySelectorAll('.widget-slider')) {
  const track = s.querySelector('.slider-container');
  if (shown(s) && track.getBoundingClientRect().width < 100)
    problems.push(`slider '${s.innerText}' collapsed to ${track.getBoundingClientRect().width} px`);
}
return problems;
"""


def _output_text(driver) -> str:
    return driver.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea')].map(o => o.innerText).join('\\n');")


def _src(driver):
    return driver.execute_script(IMAGE_SRC)


def _digest(driver):
    data = driver.execute_script(IMAGE_DIGEST)
    return hashlib.sha256(data.encode()).hexdigest() if data else None


def test_explorer_renders_and_a_dragged_slider_redraws(lab, browser):
    from selenium.webdriver.common.by import By

    url, token, log = lab
    driver = browser
    driver.get(f"{url}/lab/tree/explore.ipynb?token={token}")
    # run the cell once the notebook is the current widget and its kernel is idle (Lab's own command)
    _wait("the notebook's kernel to be idle", lambda: driver.execute_script(KERNEL_IDLE), timeout=90)
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    _wait("the cell to start", lambda: "[ ]" not in driver.execute_script(
        "return document.querySelector('.jp-InputPrompt').innerText"), timeout=30)

    def first_image():
        text = _output_text(driver)
        bad = [t for t in FAILURE_TEXTS if t in text]
        if bad:
            pytest.fail(f"the notebook's output shows {bad}:\n{text[:2000]}", pytrace=False)
        return _digest(driver)

    # a cold Numba cache compiles for a minute on two cores; a warm one renders in a few seconds
    try:
        _wait("the explorer's image", first_image, timeout=150, every=0.5)
        before = (_src(driver), _digest(driver))
    except pytest.fail.Exception:
        shot = log.with_name("screenshot.png")
        driver.save_screenshot(str(shot))
        console = [e["message"] for e in driver.get_log("browser")][-15:]
        pytest.fail(f"no explorer image; output:\n{_output_text(driver)[:1500]}\nconsole: {console}\n"
                    f"screenshot {shot}, server log {log}", pytrace=False)
    assert "ok" in _output_text(driver)
    driver.save_screenshot(str(log.with_name("explorer.png")))  # to look at when something is off

    # the layout at 1024 px: rows wrap (no sideways scrolling), labels whole, sliders not collapsed
    problems = driver.execute_script(LAYOUT_PROBLEMS)
    assert not problems, problems

    driver.execute_script(WATCH_STATUS)
    # the coarse k slider: a drag reaches the kernel and comes back as a new image
    image, seconds, k0, k1 = _drag(driver, K_LABEL, 60, before)
    assert k1 != k0
    _wait("the status line to read ok", lambda: "ok" in (driver.execute_script(
        "return window.__statusSeen.slice(-1)[0] || ''")), timeout=30)
    seen = driver.execute_script("return window.__statusSeen")
    assert any("computing" in s for s in seen), seen  # the busy line showed while the kernel worked
    # the fine k slider: a drag of 40 px is a small change of k (the coarse one moved k from 2.4 to 20).
    # Its re-centring on the new k (range widened, value set, range narrowed) reaches the page after the
    # image; a drag in between acts on the wide range (seen once in five suite runs: k 1.5 -> 6.95), so
    # wait until both sliders show the same k
    _wait("the fine k slider to be re-centred on k",
          lambda: _readout(driver, "k fine") == _readout(driver, K_LABEL), timeout=30)
    times = [seconds]
    for dx in (-40, 25):
        image, seconds, k0, k1 = _drag(driver, "k fine", dx, image)
        assert 0.8 < k1 / k0 < 1.25 and k1 != k0, (k0, k1)
        times.append(seconds)

    # the weight-decay tab renders too, and its rows do not scroll either
    driver.find_element(By.XPATH, "//li[contains(@class,'lm-TabBar-tab')][.//*[text()='weight decay']]").click()
    _wait("the weight-decay image", lambda: _src(driver) not in (None, image[0]), timeout=30)
    assert _digest(driver) != image[1]
    driver.save_screenshot(str(log.with_name("weight_decay.png")))
    problems = driver.execute_script(LAYOUT_PROBLEMS)
    assert not problems, problems

    text = _output_text(driver)
    assert not [t for t in FAILURE_TEXTS if t in text], text[:2000]
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and any(w in e["message"].lower() for w in ("widget", "toyregimes", "comm"))]
    assert not severe, severe
    print(f"\nmouse released -> new image in JupyterLab: {', '.join(f'{t:.2f}' for t in times)} s")


def _slider_xpath(label: str) -> str:
    return f"//div[contains(@class,'widget-slider')][.//*[normalize-space(text())='{label}']]"


def _readout(driver, label: str) -> str:
    """The readout text of the slider labelled ``label``."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, _slider_xpath(label) + "//div[contains(@class,'widget-readout')]").text


def _drag(driver, label: str, dx: int, image: tuple):
    """Drag the handle of the slider labelled ``label`` by ``dx`` px; wait for a new image.

    ``image`` is (address, pixel digest) of the image shown before; returns the same of the new image
    (whose pixels must differ), the seconds from releasing the mouse to the new image, the k readout before
    and after."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    slider = _slider_xpath(label)
    handle = driver.find_element(By.XPATH, slider + "//div[contains(@class,'noUi-handle')]")
    readout = driver.find_element(By.XPATH, slider + "//div[contains(@class,'widget-readout')]")
    before = float(readout.text)
    start = time.monotonic()
    ActionChains(driver).click_and_hold(handle).move_by_offset(dx, 0).release().perform()
    src = _wait(f"a new image after dragging '{label}'", lambda: (s := _src(driver)) != image[0] and s,
                timeout=60, every=0.02)
    seconds = driver.execute_script("return (window.__imageAt - window.__releasedAt) / 1000")
    assert 0 < seconds < time.monotonic() - start
    digest = _digest(driver)
    assert digest != image[1], f"dragging '{label}' showed a new image with the same pixels"
    return (src, digest), seconds, before, float(readout.text)

"""Check notebook 07's alignment explorer in a real browser and keep a screenshot of it.

    .venv/bin/python -m pip install selenium        # not a project dependency: only this check needs it
    apt-get install chromium chromium-driver         # Debian's packages; nothing is downloaded at run time
    .venv/bin/python tools/explorer_screenshot.py    # -> results/figures/alignment_explorer_jupyterlab.png

It starts JupyterLab on the repository (profile `default` unless --profile; tables and figures of the run go to a
temporary VTTWINS_RESULTS folder, never into results/), opens notebooks/07_alignment_paths.ipynb in headless
Chromium, runs all cells, waits for the explorer's widgets and their first figure, then changes the model and tau
through the widgets (as a user would) and checks that each change redraws the figure (a new image). The
screenshot and a `.meta.json` beside it (revision, browser and JupyterLab versions, the steps taken) are written.
Exits non-zero, naming the step, when any of it does not happen. The trained runs come from the run cache
(`make reproduce` first, or the notebook trains them).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/07_alignment_paths.ipynb"
OUT = ROOT / "results" / "figures" / "alignment_explorer_jupyterlab.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, predicate, timeout: float, poll: float = 1.0):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise SystemExit(f"explorer screenshot: timed out after {timeout:.0f} s waiting for {what}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the notebook to run")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # the package's own provenance helpers, from this checkout
    from vttwins.companion.results import git_revision, package_versions

    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select
    except ImportError:
        raise SystemExit("explorer screenshot: selenium is not installed (pip install selenium)") from None
    for name in ("chromium", "chromedriver"):
        if not Path(getattr(args, name)).is_file():
            raise SystemExit(
                f"explorer screenshot: --{name} {getattr(args, name)} not found "
                f"(apt-get install chromium chromium-driver)"
            )

    port, token = _free_port(), secrets.token_hex(16)
    scratch = Path(tempfile.mkdtemp(prefix="vttwins-explorer-"))
    env = {**os.environ, "VTTWINS_PROFILE": args.profile, "VTTWINS_RESULTS": str(scratch / "results")}
    lab_cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.runtime_dir={scratch / 'runtime'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        lab_cmd.append("--allow-root")
    log = open(scratch / "jupyterlab.log", "w")
    lab = subprocess.Popen(lab_cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    steps = []
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1500,1900",
            "--disable-dev-shm-usage",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=args.chromedriver), options=options)
        url = f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}"
        _wait("JupyterLab to answer", lambda: _answers(port), 120)
        driver.get(url)
        _wait(
            "the notebook to open",
            lambda: driver.execute_script(
                "return !!(window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell'))"
            ),
            180,
        )
        _wait(
            "the kernel to start",
            lambda: driver.execute_script(
                "const w = window.jupyterapp.shell.currentWidget;"
                "return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle');"
            ),
            180,
        )
        driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
        steps.append("JupyterLab: Run > Run All Cells")
        t0 = time.time()
        panel = _wait("the explorer's widgets and first figure", lambda: _explorer(driver, By), args.timeout, 2.0)
        steps.append(f"widgets and first figure shown after {time.time() - t0:.0f} s")
        first_title = _figure_src(panel, By)
        model = Select(panel.find_element(By.XPATH, ".//label[text()='model']/following-sibling::select"))
        options_text = [o.text for o in model.options]
        choice = next(
            (o for o in options_text if o not in ("untrained",) and o != model.first_selected_option.text),
            options_text[0],
        )
        model.select_by_visible_text(choice)
        steps.append(f"model dropdown -> {choice}")
        _wait(
            "the figure to redraw after the model change",
            lambda: _figure_src(panel, By) not in (None, first_title),
            120,
        )
        redrawn = _figure_src(panel, By)
        tau = panel.find_element(By.XPATH, ".//label[starts-with(text(),'τ')]/following-sibling::div")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", tau)
        tau_readout = panel.find_element(
            By.XPATH, ".//label[starts-with(text(),'τ')]/following-sibling::div[contains(@class,'widget-readout')]"
        )
        driver.execute_script("arguments[0].textContent = '1.0'; arguments[0].focus();", tau_readout)
        tau_readout.send_keys("\n")
        steps.append("tau readout -> 1.0 (typed, Enter)")
        _wait("the figure to redraw after the tau change", lambda: _figure_src(panel, By) not in (None, redrawn), 120)
        for button in driver.find_elements(By.XPATH, "//div[contains(@class,'Toastify')]//button[text()='No']"):
            button.click()  # JupyterLab's "get notified about news?" toast would cover part of the page
        driver.execute_script(  # the explorer's heading at the top, its widgets and figure below
            "const h = [...document.querySelectorAll('.jp-MarkdownCell')]"
            ".find(e => e.textContent.includes('Explore one alignment'));"
            "(h || arguments[0]).scrollIntoView({block: 'start'});",
            panel,
        )
        time.sleep(1.0)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".tmp.png")
        driver.save_screenshot(str(tmp))
        os.replace(tmp, args.out)
        meta = {
            "description": "notebook 07's alignment explorer in JupyterLab (headless Chromium), after choosing "
            f"model {choice} and tau 1.0 through the widgets",
            "profile": args.profile,
            "steps": steps,
            "browser": driver.capabilities.get("browserVersion"),
            "git_revision": git_revision(),
            "versions": package_versions(("jupyterlab", "ipywidgets")),
        }
        args.out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        print(f"explorer screenshot: {args.out} ({'; '.join(steps)})")
        return 0
    finally:
        if driver is not None:
            driver.quit()
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()


def _answers(port: int) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2).read()
        return True
    except OSError:
        return False


def _explorer(driver, By):
    """The explorer's widget box once its Output holds a figure, else None."""
    for box in driver.find_elements(By.CSS_SELECTOR, ".widget-vbox"):
        if box.find_elements(By.XPATH, ".//label[text()='model']") and box.find_elements(By.CSS_SELECTOR, "img"):
            return box
    return None


def _figure_src(panel, By):
    imgs = panel.find_elements(By.CSS_SELECTOR, "img")
    return imgs[0].get_attribute("src") if imgs else None


if __name__ == "__main__":
    sys.exit(main())

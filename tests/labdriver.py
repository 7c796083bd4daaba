"""Drive a live JupyterLab in headless Debian Chromium (selenium and chromedriver), as a student would.

Only what the tests need: open a notebook, use the menus, type into a cell, read what each code
cell shows (prompt, output text, progress bars), take screenshots. Cells are found by their
position in the notebook file (JupyterLab numbers them ``data-windowed-list-index``), so a test
reads the notebook to know which cell is which.
"""

import shutil
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Flags that work headless as root on a machine without a display, GPU or internet.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000"]

#: Per code cell: its index in the notebook, prompt ("[3]:", "[*]:", "[ ]:"), the start of its
#: source, its output text, its progress bars (filled fraction) and whether it shows an error.
_SCAN = """
return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell')].map(c => ({
  index: Number(c.dataset.windowedListIndex),
  prompt: (c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim(),
  source: (c.querySelector('.jp-InputArea-editor') || {textContent: ''}).textContent.slice(0, 200),
  output: (c.querySelector('.jp-OutputArea') || {textContent: ''}).textContent,
  progress: [...c.querySelectorAll('.widget-hprogress .progress-bar, .widget-hprogress [role=progressbar]')]
      .map(bar => parseFloat(bar.style.width || '0') / 100),
  error: !!c.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'),
}));
"""


def execution_count(cell):
    """The number in a code cell's prompt ("[3]:"), or None while it waits, runs or never ran."""
    count = cell["prompt"][1:-2]
    return int(count) if count.isdigit() else None


def missing_tools():
    """The Debian programs the browser tests need and this machine lacks (``make browser-tools``)."""
    return [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]


class Lab:
    """A headless Chromium showing one JupyterLab server.

    Parameters
    ----------
    base : str
        The server's address, such as ``http://127.0.0.1:8888``.
    token : str
        Its token.
    profile : path
        A new, empty folder for Chromium's profile (``--user-data-dir``).
    screenshots : path
        Where :meth:`screenshot` writes.
    """

    def __init__(self, base, token, profile, screenshots):
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = CHROMIUM  # given, so selenium never looks for (or fetches) a browser
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.base, self.token = base, token
        self.screenshots = Path(screenshots)
        self.screenshots.mkdir(parents=True, exist_ok=True)

    def close(self):
        self.driver.quit()

    def screenshot(self, name):
        """Save the window as ``<screenshots>/<name>.png``; returns the path."""
        path = self.screenshots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def text(self):
        """Everything the page says (also what is scrolled out of view)."""
        return self.driver.execute_script("return document.body.textContent")

    def wait(self, condition, timeout, what):
        """Poll ``condition()`` until it returns something true; TimeoutError naming ``what``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = condition()
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"waited {timeout} s for {what}")

    def open(self, notebook, n_cells, timeout=120):
        """Open ``notebook`` (a path under the server's root) and wait until its ``n_cells`` cells
        are shown and its kernel is idle."""
        self.driver.get(f"{self.base}/lab/tree/{notebook}?token={self.token}")
        self.wait(lambda: self.driver.execute_script(
            "return document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').length")
            == n_cells, timeout, f"{notebook} to show its {n_cells} cells")
        self.wait(self.kernel_idle, timeout, f"the kernel of {notebook} to start")

    def kernel_idle(self):
        """Whether the open notebook's toolbar shows its kernel idle."""
        return self.driver.execute_script(
            "return !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook-ExecutionIndicator[data-status=\"idle\"]')")

    def menu(self, menu, item):
        """Click ``item`` in the menu bar's ``menu`` (labels as shown)."""
        from selenium.webdriver.common.by import By

        menu_label = f"//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='{menu}']"
        self.driver.find_element(By.XPATH, menu_label).click()
        item_label = (f"//li[contains(@class, 'lm-Menu-item')]"
                      f"[.//div[contains(@class, 'lm-Menu-itemLabel') and text()='{item}']]")
        self.driver.find_element(By.XPATH, item_label).click()

    def cells(self):
        """What every code cell of the open notebook shows, by notebook index."""
        return {cell["index"]: cell for cell in self.driver.execute_script(_SCAN)}

    def wait_for_run(self, last, timeout):
        """Wait until a run of cells has ended: no cell waits or runs, and the code cell at index
        ``last`` has run or some cell shows an error. Returns :meth:`cells`."""
        def ended():
            cells = self.cells()
            if any(c["prompt"] == "[*]:" for c in cells.values()):
                return None
            if execution_count(cells[last]) or any(c["error"] for c in cells.values()):
                return cells
            return None

        return self.wait(ended, timeout, "the cells to finish running")

    def wait_for_cell(self, index, newer_than, timeout=60):
        """Wait until the code cell at ``index`` has run with an execution count above
        ``newer_than``; returns what it shows."""
        def ran():
            cell = self.cells()[index]
            return cell if (execution_count(cell) or 0) > newer_than else None

        return self.wait(ran, timeout, f"cell {index} to run")

    def show(self, index):
        """Scroll the cell at ``index`` to the top of the notebook view."""
        self.driver.execute_script(
            "document.querySelector(`.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Cell[data-windowed-list-index='${arguments[0]}']`).scrollIntoView({block: 'start'})", index)
        time.sleep(0.5)  # content-visibility: the browser draws what came into view

    def retype(self, index, text):
        """Click into the cell at ``index``, select all it holds and type ``text`` instead."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.show(index)
        editor = self.driver.find_element(
            By.CSS_SELECTOR,
            f".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell[data-windowed-list-index='{index}'] .cm-content")
        editor.click()
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(text).perform()

    def shift_enter(self):
        """Run the selected cell and select the next (Shift+Enter)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

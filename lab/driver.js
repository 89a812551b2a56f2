// Drives the JupyterLab application of this folder in a headless Chromium with
// playwright-core, as a user does, and reports what the page shows after each step.
// lab_test.go runs it and judges the reports:
//
//	node driver.js CONFIG_JSON
//
// CONFIG_JSON: {"url": "http://127.0.0.1:PORT/lab?token=T", "browser": "/usr/bin/chromium",
// "profile": "a fresh folder", "artifacts": "a folder for the screenshots",
// "tutorial": "notebooks/00-tutorial.ipynb", "adversarial": "notebooks/05-adversarial.ipynb",
// "completeLine": "a line ending in solver.",
// "timeoutSeconds": {"start": 120, "run": 300, "step": 120}}.
//
// Each step writes one line of JSON to standard output:
//
//	{"step": NAME, "data": {...}, "screenshot": FILE, "seconds": S}
//
// or, when the step could not be carried out, "error" instead of "data"; the driver then
// stops. The last line is {"step": "console", "data": {"messages": [...]}}, the page's
// console errors and warnings and uncaught exceptions. The exit status is 0 when every
// step was carried out (whether its observations are right is for the test to say).

'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const ms = s => s * 1000;
const timeouts = {
  start: ms(cfg.timeoutSeconds.start),
  run: ms(cfg.timeoutSeconds.run),
  step: ms(cfg.timeoutSeconds.step)
};

// The flags of the project's other browser tests: no sandbox or GPU (containers), and no
// traffic of the browser's own (updates, sync, first-run pages, QUIC probes).
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage'
];

const messages = [];
let page;
let shots = 0;

function report(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

// step runs one named step, saves a screenshot of the page after it and reports.
async function step(name, run) {
  const started = Date.now();
  let data;
  let error;
  try {
    data = await run();
  } catch (e) {
    error = String((e && e.stack) || e);
  }
  shots++;
  const screenshot = path.join(cfg.artifacts, `${String(shots).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: screenshot });
  } catch (e) {
    error = (error ? error + '\n' : '') + `screenshot: ${e}`;
  }
  report({ step: name, data, error, screenshot, seconds: (Date.now() - started) / 1000 });
  if (error) {
    throw new Error(`step ${name} failed`);
  }
  return data;
}

// --- The application's state, read in the page -------------------------------------

// panelId returns the DOM id of the notebook in the main area (a CSS scope for clicks).
async function panelId() {
  return page.evaluate(() => {
    const panel = window.gocvxLab.app.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext) {
      throw new Error('the main area shows no notebook');
    }
    return panel.id;
  });
}

// waitRan waits until the current notebook's kernel is connected and idle, no cell is
// queued or running (a prompt of [*]) and the code cells at indices have an execution
// count. indices 'all' means every code cell with code, unless a cell shows an error
// (a run stops at the first error, and the test is to say so).
async function waitRan(indices, timeout) {
  await page.waitForFunction(
    which => {
      const panel = window.gocvxLab.app.shell.currentWidget;
      const kernel = panel && panel.sessionContext && panel.sessionContext.session?.kernel;
      if (!kernel || kernel.status !== 'idle' || kernel.connectionStatus !== 'connected') {
        return false;
      }
      const code = panel.content.widgets.filter(c => c.model.type === 'code');
      if (code.some(c => c.promptNode.textContent.includes('*'))) {
        return false;
      }
      if (which === 'all') {
        const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
        return failed || code.every(c => c.model.sharedModel.getSource().trim() === '' || c.model.executionCount !== null);
      }
      return which.every(i => panel.content.widgets[i].model.executionCount !== null);
    },
    indices,
    { timeout, polling: 250 }
  );
}

// cellReport describes every code cell of the current notebook: its index, execution
// count, error outputs and rendered outputs (MIME type of each rendered output, its images once decoded, its
// HTML tables, the start of its text).
async function cellReport() {
  return page.evaluate(async () => {
    const panel = window.gocvxLab.app.shell.currentWidget;
    const cells = [];
    for (const [index, cell] of panel.content.widgets.entries()) {
      if (cell.model.type !== 'code') {
        continue;
      }
      // JupyterLab renders error outputs as stderr text; the model tells them apart.
      const errors = cell.model.outputs.toJSON()
        .filter(o => o.output_type === 'error')
        .map(o => `${o.ename}: ${o.evalue}`);
      cells.push({ index, executionCount: cell.model.executionCount, errors, outputs: await outputReport(cell) });
    }
    return cells;

    async function outputReport(cell) {
      const outputs = [];
      for (const node of cell.node.querySelectorAll('.jp-OutputArea-output')) {
        const images = [];
        for (const img of node.querySelectorAll('img')) {
          const decoded = await img.decode().then(() => true, () => false);
          images.push({ decoded, width: img.naturalWidth, height: img.naturalHeight });
        }
        outputs.push({
          mime: node.dataset.mimeType || '',
          images,
          tables: node.querySelectorAll('table').length,
          text: node.innerText.slice(0, 400)
        });
      }
      return outputs;
    }
  });
}

// --- What a user does -----------------------------------------------------------------

// openFromFileBrowser opens a notebook by double-clicking through the file browser,
// starting at the root folder (the breadcrumbs' home), and waits for its kernel.
async function openFromFileBrowser(file) {
  await page.click('.jp-FileBrowser .jp-BreadCrumbs-home');
  for (const part of file.split('/')) {
    const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await page
      .locator('.jp-DirListing-itemText', { hasText: new RegExp(`^${escaped}$`) })
      .dblclick({ timeout: timeouts.step });
  }
  await page.waitForFunction(
    f => window.gocvxLab.app.shell.currentWidget?.context?.path === f,
    file,
    { timeout: timeouts.step }
  );
  await waitRan([], timeouts.start);
}

// menu clicks a menu of the menu bar, then the item that runs command.
async function menu(title, command) {
  await page.locator('.lm-MenuBar-item', { hasText: new RegExp(`^${title}$`) }).click();
  await page.locator(`.lm-Menu-item[data-command="${command}"]`).click();
}

// runAll clears every output (Edit menu), runs all cells (Run menu) and waits until
// they have run, so that every output the page shows comes from this run.
async function runAll(timeout) {
  await menu('Edit', 'editmenu:clear-all');
  await page.waitForFunction(
    () => window.gocvxLab.app.shell.currentWidget.content.widgets.every(
      c => c.model.type !== 'code' || (c.model.outputs.length === 0 && c.model.executionCount === null)
    ),
    null,
    { timeout: timeouts.step }
  );
  await menu('Run', 'runmenu:run-all');
  await waitRan('all', timeout);
}

// editLastCell puts the cursor in an empty code cell at the end of the notebook: the
// one Shift+Enter left after the last cell, or a new one from the toolbar's insert
// button.
async function editLastCell() {
  const id = await panelId();
  const reuse = await page.evaluate(() => {
    const notebook = window.gocvxLab.app.shell.currentWidget.content;
    const last = notebook.widgets[notebook.widgets.length - 1];
    notebook.mode = 'command';
    notebook.activeCellIndex = notebook.widgets.length - 1;
    return last.model.type === 'code' && last.model.sharedModel.getSource() === '';
  });
  if (!reuse) {
    await page.click(`#${id} .jp-Toolbar [data-command="notebook:insert-cell-below"]`);
  }
  await page.click(`#${id} .jp-Cell.jp-mod-active .cm-content`);
}

// typeAndRun types code into a new last cell and runs it with Shift+Enter; it returns
// the cell's index. With wait, it waits until the cell has run.
async function typeAndRun(code, wait = true) {
  await editLastCell();
  await page.keyboard.type(code);
  const index = await activeIndex();
  await page.keyboard.press('Shift+Enter');
  if (wait) {
    await waitRan([index], timeouts.run);
  }
  return index;
}

async function activeIndex() {
  return page.evaluate(() => window.gocvxLab.app.shell.currentWidget.content.activeCellIndex);
}

async function cellOutputs(index) {
  const cells = await cellReport();
  const cell = cells.find(c => c.index === index);
  if (!cell) {
    throw new Error(`cell ${index} is not a code cell`);
  }
  return cell;
}

// --- The steps --------------------------------------------------------------------------

// editorState tells which language the first code cell's editor uses and whether its
// first token is drawn in a colour of its own (highlighted) rather than the text's.
async function editorState() {
  return page.evaluate(() => {
    const panel = window.gocvxLab.app.shell.currentWidget;
    const cell = panel.content.widgets.find(c => c.model.type === 'code');
    const line = cell.editor.host.querySelector('.cm-line');
    const token = line.querySelector('span');
    return {
      path: panel.context.path,
      kernel: panel.sessionContext.kernelDisplayName,
      languageInfo: panel.model.getMetadata('language_info') || null,
      mimeType: cell.editor.model.mimeType,
      firstLine: line.textContent,
      firstToken: token ? token.textContent : '',
      tokenColor: token ? getComputedStyle(token).color : '',
      textColor: getComputedStyle(line).color
    };
  });
}

// scrollToImage brings the first output image (of the cell at index, or of the notebook
// when index is null) into view for the screenshot.
async function scrollToImage(index = null) {
  await page.evaluate(i => {
    const notebook = window.gocvxLab.app.shell.currentWidget.content;
    const scope = i === null ? notebook.node : notebook.widgets[i].node;
    const img = scope.querySelector('.jp-OutputArea-output img');
    if (img) {
      img.scrollIntoView({ block: 'center' });
    }
  }, index);
}

// watchOutputs starts counting, in the page, the output areas of the cell at index at
// every change of its outputs: the most seen at once and the distinct contents seen.
async function watchOutputs(index) {
  await page.evaluate(i => {
    const cell = window.gocvxLab.app.shell.currentWidget.content.widgets[i];
    const area = cell.node.querySelector('.jp-OutputArea');
    const seen = { maxOutputs: 0, contents: new Set(), changes: 0 };
    const look = () => {
      const outputs = area.querySelectorAll('.jp-OutputArea-child');
      seen.maxOutputs = Math.max(seen.maxOutputs, outputs.length);
      seen.changes++;
      const content = Array.from(outputs, o => o.innerText + [...o.querySelectorAll('img')].map(img => img.src.length + ':' + img.src.slice(-64)).join()).join('\n');
      if (content) {
        seen.contents.add(content);
      }
    };
    const observer = new MutationObserver(look);
    observer.observe(area, { childList: true, subtree: true, characterData: true, attributes: true });
    window.gocvxWatch = { seen, observer, look };
  }, index);
}

async function stopWatching() {
  return page.evaluate(() => {
    const { seen, observer, look } = window.gocvxWatch;
    look();
    observer.disconnect();
    return { maxOutputs: seen.maxOutputs, distinctContents: seen.contents.size, changes: seen.changes };
  });
}

const liveCell = [
  'liveData, _ := dataset.Spirals(300, 0.05, 3)',
  'liveX := dataset.AddBias(liveData.X)',
  'liveProb := &solver.Problem{X: liveX, Y: liveData.Y, Loss: solver.Squared, Beta: 0.1}',
  'liveRes, err := display.SolveLive(cell.Context(), liveProb, &solver.Settings{Patterns: 200, MaxIterations: 2000, Tolerance: 1e-10, Seed: 1}, &solver.ADMM{})',
  'if err != nil {',
  '\tpanic(err)',
  '}',
  '_ = liveRes'
].join('\n');

async function main() {
  // If the test that started the driver is killed, the driver ends too (and Playwright
  // with it ends the browser).
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(2), 1000).unref();
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const context = await chromium.launchPersistentContext(cfg.profile, {
    executablePath: cfg.browser,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1366, height: 900 }
  });
  try {
    page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(timeouts.step);
    page.on('console', m => {
      if (m.type() === 'error' || m.type() === 'warning') {
        messages.push({ type: m.type(), text: m.text().slice(0, 1000), url: m.location().url || '' });
      }
    });
    page.on('pageerror', e => messages.push({ type: 'exception', text: String(e.stack || e).slice(0, 2000), url: '' }));
    await steps();
  } finally {
    report({ step: 'console', data: { messages } });
    await context.close();
  }
}

async function steps() {
  await step('start', async () => {
    await page.goto(cfg.url, { timeout: timeouts.start });
    await page.waitForFunction(() => window.gocvxLab, null, { timeout: timeouts.start });
    await page.evaluate(() => window.gocvxLab.restored);
    return { title: await page.title() };
  });

  await step('open-tutorial', async () => {
    await openFromFileBrowser(cfg.tutorial);
    return editorState();
  });

  await step('run-tutorial', async () => {
    await runAll(timeouts.run);
    const cells = await cellReport();
    await scrollToImage();
    return { cells };
  });

  // A new notebook from the launcher: its editor's language can only come from the
  // kernel's language_info.
  await step('new-notebook', async () => {
    await page.click('.jp-FileBrowser .jp-ToolbarButtonComponent[data-command="launcher:create"]');
    const launcher = await page.evaluate(() => window.gocvxLab.app.shell.currentWidget.id);
    await page.click(`#${launcher} .jp-LauncherCard[data-category="Notebook"][title="Go (gocvx)"]`);
    await page.waitForFunction(
      () => (window.gocvxLab.app.shell.currentWidget?.context?.path || '').endsWith('.ipynb'),
      null,
      { timeout: timeouts.step }
    );
    await waitRan([], timeouts.start);
    await page.click(`#${await panelId()} .jp-Cell.jp-mod-active .cm-content`);
    await page.keyboard.type('import "fmt"');
    const state = await editorState();
    const index = await activeIndex();
    await page.keyboard.press('Shift+Enter');
    await waitRan([index], timeouts.run);
    return state;
  });

  await step('live', async () => {
    await editLastCell();
    const index = await activeIndex();
    // The cell is long; it is set as its text rather than typed (the editor indents
    // typed lines itself).
    await page.evaluate(
      ([i, code]) => window.gocvxLab.app.shell.currentWidget.content.widgets[i].model.sharedModel.setSource(code),
      [index, liveCell]
    );
    await watchOutputs(index);
    await page.keyboard.press('Shift+Enter');
    await waitRan([index], timeouts.run);
    const watched = await stopWatching();
    const cell = await cellOutputs(index);
    await scrollToImage(index);
    return { ...watched, cell };
  });

  await step('interrupt', async () => {
    const before = await typeAndRun('x := 42');
    const loop = await typeAndRun('for {}', false);
    // The loop runs once its prompt shows [*] and the kernel is busy with it.
    await page.waitForFunction(
      i => {
        const panel = window.gocvxLab.app.shell.currentWidget;
        return panel.sessionContext.session?.kernel?.status === 'busy' &&
          panel.content.widgets[i].promptNode.textContent.includes('*');
      },
      loop,
      { timeout: timeouts.step }
    );
    await page.click(`#${await panelId()} .jp-Toolbar [data-command="notebook:interrupt-kernel"]`);
    await waitRan([loop], timeouts.step);
    const after = await typeAndRun('fmt.Println(x)');
    return { define: await cellOutputs(before), loop: await cellOutputs(loop), after: await cellOutputs(after) };
  });

  await step('complete', async () => {
    await editLastCell();
    await page.keyboard.type(cfg.completeLine);
    await page.keyboard.press('Tab');
    const completer = page.locator('.jp-Completer:not(.lm-mod-hidden)');
    await completer.locator('.jp-Completer-item').first().waitFor({ timeout: timeouts.step });
    // JupyterLab renders a long list in batches (the first ones at once, the rest when the
    // browser is idle): wait for the item the step looks for before reading the list; the
    // check then reports what was listed if it never appears.
    await completer.locator('.jp-Completer-match', { hasText: /^Solve$/ })
      .waitFor({ timeout: timeouts.step }).catch(() => {});
    const items = await completer.locator('.jp-Completer-item .jp-Completer-match').allTextContents();
    return { items };
  });

  // Choosing Solve in the completer's list completes solver. to solver.Solve; Shift+Tab
  // there shows its documentation.
  await step('inspect', async () => {
    await page.locator('.jp-Completer:not(.lm-mod-hidden) .jp-Completer-item', {
      has: page.locator('.jp-Completer-match', { hasText: /^Solve$/ })
    }).click();
    await page.keyboard.press('Shift+Tab');
    const tooltip = page.locator('.jp-Tooltip');
    await tooltip.waitFor({ timeout: timeouts.step });
    const source = await page.evaluate(() =>
      window.gocvxLab.app.shell.currentWidget.content.activeCell.model.sharedModel.getSource());
    return { source, tooltip: await tooltip.innerText() };
  });

  // Help ▸ Show Contextual Help opens the inspector, which follows the cursor: moving it
  // onto solver.Solve shows the same documentation in the panel.
  await step('contextual-help', async () => {
    await page.keyboard.press('Escape');
    const notebook = await panelId(); // the inspector opens beside it and takes the focus
    await menu('Help', 'inspector:toggle');
    const inspector = page.locator('.jp-Inspector');
    await inspector.waitFor({ timeout: timeouts.step });
    await page.click(`#${notebook} .jp-Cell.jp-mod-active .cm-content`);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await inspector.locator('.jp-Inspector-content', { hasText: 'func Solve(' }).waitFor({ timeout: timeouts.step });
    const text = await inspector.locator('.jp-Inspector-content').innerText();
    await page.keyboard.press('Escape');
    return { text };
  });

  await step('restart', async () => {
    await page.keyboard.press('Escape');
    // The statuses the kernel goes through from here on, to know the restart happened.
    await page.evaluate(() => {
      const session = window.gocvxLab.app.shell.currentWidget.sessionContext;
      window.gocvxStatuses = [];
      session.statusChanged.connect((_, status) => window.gocvxStatuses.push(status));
    });
    await menu('Kernel', 'kernelmenu:restart');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await page.waitForFunction(() => window.gocvxStatuses.includes('restarting'), null, { timeout: timeouts.step });
    await waitRan([], timeouts.start);
    const index = await typeAndRun('fmt.Println("restarted")');
    return { statuses: await page.evaluate(() => window.gocvxStatuses), cell: await cellOutputs(index) };
  });

  await step('open-adversarial', async () => {
    await openFromFileBrowser(cfg.adversarial);
    return editorState();
  });

  await step('run-adversarial', async () => {
    await runAll(timeouts.run);
    const cells = await cellReport();
    await scrollToImage();
    return { cells };
  });
}

main().then(
  () => process.exit(0),
  e => {
    process.stderr.write(String((e && e.stack) || e) + '\n');
    process.exit(1);
  }
);

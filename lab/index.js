// The entry point of the JupyterLab 4 application that gocvx's browser tests drive.
// It registers the plugins of the extension packages listed in package.json under
// "jupyterlab" (webpack.config.js copies their settings schemas and themes next to the
// bundle) and starts the shell once the page has loaded.

import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// Chunks and assets load from the server's static URL, which is known only at run time.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

// build/style.js imports the style sheet of every extension package; it is written by
// the build before webpack runs.
const styles = import('./build/style.js');

const extensions = [
  import('@jupyterlab/application-extension'),
  import('@jupyterlab/apputils-extension'),
  import('@jupyterlab/codemirror-extension'),
  import('@jupyterlab/completer-extension'),
  import('@jupyterlab/console-extension'),
  import('@jupyterlab/docmanager-extension'),
  import('@jupyterlab/documentsearch-extension'),
  import('@jupyterlab/filebrowser-extension'),
  import('@jupyterlab/fileeditor-extension'),
  import('@jupyterlab/inspector-extension'),
  import('@jupyterlab/launcher-extension'),
  import('@jupyterlab/mainmenu-extension'),
  import('@jupyterlab/markedparser-extension'),
  import('@jupyterlab/mathjax-extension'),
  import('@jupyterlab/metadataform-extension'),
  import('@jupyterlab/notebook-extension'),
  import('@jupyterlab/rendermime-extension'),
  import('@jupyterlab/running-extension'),
  import('@jupyterlab/shortcuts-extension'),
  import('@jupyterlab/statusbar-extension'),
  import('@jupyterlab/theme-light-extension'),
  import('@jupyterlab/toc-extension'),
  import('@jupyterlab/tooltip-extension'),
  import('@jupyterlab/translation-extension'),
  import('@jupyterlab/ui-components-extension')
];

const mimeExtensions = [import('@jupyterlab/json-extension')];

window.addEventListener('load', async () => {
  await styles;
  const lab = new JupyterLab({ mimeExtensions: await Promise.all(mimeExtensions) });
  // Each package exports a plugin or an array of plugins as its default export. The
  // language-server plugins need a server extension that jupyter_server 1 lacks.
  const plugins = (await Promise.all(extensions))
    .flatMap(m => m.default)
    .filter(p => !p.id.includes(':language-server'));
  lab.registerPlugins(plugins);
  // The browser test reads the application's state (the notebook model, the editor's
  // language) through this handle; it is set before start so the test can await it.
  window.gocvxLab = { app: lab, restored: lab.start().then(() => lab.restored) };
});

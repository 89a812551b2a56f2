// Package lab holds the JupyterLab 4 front end of gocvx's browser tests; it has no Go
// code of its own besides the tests.
//
// The application (index.js, webpack.config.js, package.json with its committed
// package-lock.json) is built from npm by build.sh into a cache folder outside the
// checkout, keyed by the lock file's hash, and served by server.py with Debian's
// jupyter_server and jupyterlab_server on 127.0.0.1. TestJupyterLab starts both with
// the gocvx kernelspec installed and runs driver.js, which drives the application in
// a headless Chromium with playwright-core as a user does: it runs the tutorial and
// notebook 05, a live solve, an interrupt, completion, documentation and a restart,
// and saves a screenshot of each step.
package lab

package notebook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocvx/gocvx/internal/testenv"
	"github.com/gocvx/gocvx/notebook/internal/webdriver"
)

// startBrowser starts chromedriver with a headless Debian Chromium and a fresh
// profile; the test's cleanup ends both.
func startBrowser(t *testing.T) *webdriver.Driver {
	t.Helper()
	return startBrowserOwned(t, t)
}

// startBrowserOwned starts the browser for test t, ending it with owner's cleanup.
func startBrowserOwned(t, owner *testing.T) *webdriver.Driver {
	t.Helper()
	driver := testenv.RequireCommand(t, "chromedriver")
	browser := "/usr/bin/chromium"
	if _, err := os.Stat(browser); err != nil {
		browser = testenv.RequireCommand(t, "chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log strings.Builder
	d, err := webdriver.Start(ctx, webdriver.Options{Driver: driver, Browser: browser, UserDataDir: owner.TempDir(), Log: &syncWriter{b: &log}})
	if err != nil {
		t.Fatalf("%v\nchromedriver log:\n%s", err, log.String())
	}
	owner.Cleanup(d.Close)
	return d
}

// lazyBrowser returns a function that starts the browser on its first call, so a
// test whose subtests all fail before they need it starts none; t's cleanup ends it.
func lazyBrowser(owner *testing.T) func(t *testing.T) *webdriver.Driver {
	var d *webdriver.Driver
	return func(t *testing.T) *webdriver.Driver {
		t.Helper()
		if d == nil {
			d = startBrowserOwned(t, owner)
		}
		return d
	}
}

// imageReport is what the page says of its images once each is decoded.
type imageReport struct {
	Src     string `json:"src"`
	Decoded bool   `json:"decoded"`
	Width   int    `json:"width"`
	Error   string `json:"error"`
}

// decodeImages waits until every image of the page decodes (or fails to).
const decodeImages = `
const done = arguments[arguments.length - 1];
Promise.all(Array.from(document.images).map(img =>
  img.decode().then(
    () => ({src: img.src.slice(0, 40), decoded: true, width: img.naturalWidth, error: ""}),
    e => ({src: img.src.slice(0, 40), decoded: false, width: 0, error: String(e)}))
)).then(done);
`

// pageProblems opens an HTML file in headless Chromium and lists what is wrong with
// it: console errors or warnings, images that do not decode to a non-empty picture,
// fewer than minImages images. It also returns the page's text.
func pageProblems(t *testing.T, d *webdriver.Driver, page string, minImages int) (problems []string, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	d.BrowserLog(ctx) // forget earlier pages
	if err := d.Navigate(ctx, "file://"+abs); err != nil {
		t.Fatal(err)
	}
	if err := d.SetScriptTimeout(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	var images []imageReport
	if err := d.ExecuteAsync(ctx, decodeImages, &images); err != nil {
		t.Fatal(err)
	}
	if len(images) < minImages {
		problems = append(problems, fmt.Sprintf("%d images, want at least %d", len(images), minImages))
	}
	for i, img := range images {
		if !img.Decoded || img.Width == 0 {
			problems = append(problems, fmt.Sprintf("image %d (%s…) did not decode: %s", i, img.Src, img.Error))
		}
	}
	logs, err := d.BrowserLog(ctx)
	if err != nil {
		t.Fatalf("reading the console: %v", err)
	}
	for _, e := range logs {
		if e.Level == "SEVERE" || e.Level == "WARNING" {
			problems = append(problems, fmt.Sprintf("console %s: %s", e.Level, e.Message))
		}
	}
	if err := d.Execute(ctx, "return document.body.innerText", &text); err != nil {
		t.Fatal(err)
	}
	return problems, text
}

// TestHTMLInChromium renders the export of a notebook with every kind of output in
// a real browser.
func TestHTMLInChromium(t *testing.T) {
	d := startBrowser(t)
	page := filepath.Join(t.TempDir(), "sample.html")
	if err := WriteHTMLFile(page, sampleNotebook(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	problems, text := pageProblems(t, d, page, 3)
	for _, p := range problems {
		t.Error(p)
	}
	for _, want := range []string{"A title", "In [1]:", "Out[1]:", "42", "panic: 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page shows no %q:\n%s", want, text)
		}
	}

	// A broken image and a script error are caught: the checks are not vacuous.
	nb := sampleNotebook()
	nb.Cells[1].Outputs[2].Data["image/png"] = "bm90IGEgcG5n" // "not a png"
	nb.Cells[1].Outputs[4].Data["text/html"] = "<script>undefinedFunction()</script>"
	broken := filepath.Join(t.TempDir(), "broken.html")
	if err := WriteHTMLFile(broken, nb, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	problems, _ = pageProblems(t, d, broken, 3)
	var image, console bool
	for _, p := range problems {
		image = image || strings.Contains(p, "did not decode")
		console = console || strings.Contains(p, "undefinedFunction")
	}
	if !image || !console {
		t.Errorf("a broken PNG and a script error gave only %q", problems)
	}
}

// syncWriter is a strings.Builder safe for chromedriver's two output streams.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

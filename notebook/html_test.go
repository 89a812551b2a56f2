package notebook

import (
	"bytes"
	"encoding/base64"
	"html"
	"regexp"
	"strings"
	"testing"
)

var tag = regexp.MustCompile(`<[^>]*>`)

func TestHighlightGoRoundTrips(t *testing.T) {
	for _, src := range []string{
		"",
		"x := 1",
		"package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"<hi> & bye\", 'x', 1.5e3, 0x1F, 2i)\n}\n",
		"// comment\r\nvar s = `raw\r\nstring` /* block\r\n comment */\n",
		"s := \"unterminated\nnext := `also",
		"/* open comment",
		"%magic and ? other # not go € ✓\n",
		"res, err := solver.Solve(cell.Context(), prob, nil, &solver.ADMM{Rho: 1}); if err != nil { panic(err) }; len(x); true; nil",
	} {
		got := HighlightGo(src)
		if back := html.UnescapeString(tag.ReplaceAllString(got, "")); back != src {
			t.Errorf("HighlightGo(%q) loses text: %q", src, back)
		}
	}
	got := HighlightGo("func f() int { return len(\"s\") + 1 } // c\nvar b = true")
	for _, want := range []string{
		`<span class="k">func</span>`, `<span class="kt">int</span>`, `<span class="k">return</span>`,
		`<span class="nb">len</span>`, `<span class="s">&#34;s&#34;</span>`, `<span class="m">1</span>`,
		`<span class="c">// c</span>`, `<span class="kc">true</span>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("highlighted code lacks %s:\n%s", want, got)
		}
	}
}

// pngPixel is a 1×1 PNG.
const pngPixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

func sampleNotebook() *Notebook {
	nb := New()
	one, two := 1, 2
	nb.Cells = []*Cell{
		{Type: Markdown, Source: "# A *title*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```go\nx := 1 // one\n```\n\n![dot](attachment:dot.png)\n",
			Attachments: map[string]any{"dot.png": map[string]any{"image/png": pngPixel}}},
		{Type: Code, Source: "fmt.Println(\"<b>\")", ExecutionCount: &one, Outputs: []*Output{
			{Type: Stream, Name: "stdout", Text: "<b>\n"},
			{Type: Stream, Name: "stderr", Text: "\x1b[31mred\x1b[0m\n"},
			{Type: DisplayData, Data: map[string]any{"text/plain": "fig", "image/png": pngPixel}, Metadata: map[string]any{"image/png": map[string]any{"width": 1, "height": 1}}},
			{Type: DisplayData, Data: map[string]any{"text/plain": "vec", "image/svg+xml": `<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>`}},
			{Type: DisplayData, Data: map[string]any{"text/plain": "t", "text/html": "<table class=\"r\"><tr><td>1</td></tr></table>"}},
			{Type: ExecuteResult, Data: map[string]any{"text/plain": "42"}, ExecutionCount: &one},
		}},
		{Type: Code, Source: "panic(1)", ExecutionCount: &two, Outputs: []*Output{
			{Type: ErrorOutput, EName: "panic", EValue: "1", Traceback: []string{"\x1b[31mpanic: 1\x1b[0m", "  Cell2:1:1"}},
		}},
		{Type: Raw, Source: "not shown"},
	}
	return nb
}

func TestWriteHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sampleNotebook(), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	svg := base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>`))
	for _, want := range []string{
		"<title>A title</title>",
		"<h1 id=\"a-title\">A <em>title</em></h1>",
		"<table>", "<td>1</td>",
		`<pre class="source go"><code>x := <span class="m">1</span> <span class="c">// one</span>`,
		`<img src="data:image/png;base64,` + pngPixel + `" alt="dot">`,
		`In [1]:`, `Out[1]:`,
		`<pre class="stream stdout">&lt;b&gt;`,
		`<pre class="stream stderr">red`,
		`<img class="figure" alt="fig" src="data:image/png;base64,` + pngPixel + `" width="1" height="1">`,
		`src="data:image/svg+xml;base64,` + svg + `"`,
		`<div class="html"><table class="r">`,
		`<pre class="text">42</pre>`,
		`<pre class="error">panic: 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, bad := range []string{"\x1b", "not shown", "<script", "http://", "https://"} {
		if bad == "http://" {
			// the only URL allowed is the SVG namespace, inside the base64 payload
			if strings.Contains(strings.ReplaceAll(page, svg, ""), bad) {
				t.Errorf("page refers to %s", bad)
			}
			continue
		}
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	var hidden bytes.Buffer
	WriteHTML(&hidden, sampleNotebook(), HTMLOptions{HideInput: true, Title: "T & U"})
	if strings.Contains(hidden.String(), "In [1]:") || !strings.Contains(hidden.String(), "<title>T &amp; U</title>") {
		t.Error("HideInput or Title not honoured")
	}
}

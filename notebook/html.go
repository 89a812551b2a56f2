package notebook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// HTMLOptions configure WriteHTML.
type HTMLOptions struct {
	// Title is the page title; empty means the first heading of the notebook, or
	// "Notebook".
	Title string
	// HideInput leaves out the code of code cells, keeping their outputs.
	HideInput bool
}

// outputOrder is the MIME type shown for a display, first match wins (nbconvert's
// order): rich text, then vector, then raster images, then plain text.
var outputOrder = []string{
	"text/html", "text/markdown", "image/svg+xml", "text/latex",
	"image/png", "image/jpeg", "image/gif", "application/json", "text/plain",
}

// WriteHTML writes nb as one standalone HTML page: code highlighted as Go, markdown
// rendered (CommonMark with GitHub tables), images inlined as data URIs (SVG too, so
// figures cannot clash). The page loads nothing from elsewhere; HTML outputs are
// included as they are, as Jupyter and nbconvert show them.
func WriteHTML(w io.Writer, nb *Notebook, opts HTMLOptions) error {
	var b bytes.Buffer
	title := opts.Title
	if title == "" {
		title = notebookTitle(nb)
	}
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<meta name=\"generator\" content=\"gocvx run\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>%s%s</style>\n</head>\n<body>\n<main class=\"notebook\">\n", html.EscapeString(title), pageCSS, widgetCSS)
	widgets := savedWidgets(nb)
	for i, c := range nb.Cells {
		id := c.ID
		if id == "" {
			id = fmt.Sprintf("cell-%d", i+1)
		}
		switch c.Type {
		case Markdown:
			fmt.Fprintf(&b, "<section class=\"cell markdown\" id=\"%s\">\n<div class=\"prompt\"></div>\n<div class=\"rendered\">\n", html.EscapeString(id))
			b.WriteString(renderMarkdown(c.Source, c.Attachments))
			b.WriteString("</div>\n</section>\n")
		case Code:
			fmt.Fprintf(&b, "<section class=\"cell code\" id=\"%s\">\n", html.EscapeString(id))
			if !opts.HideInput {
				fmt.Fprintf(&b, "<div class=\"input\"><div class=\"prompt in\">In [%s]:</div><pre class=\"source go\"><code>%s</code></pre></div>\n",
					countText(c.ExecutionCount), HighlightGo(c.Source))
			}
			for _, o := range c.Outputs {
				writeOutput(&b, o, widgets)
			}
			b.WriteString("</section>\n")
		case Raw:
			if format, _ := c.Metadata["format"].(string); format == "text/html" {
				fmt.Fprintf(&b, "<section class=\"cell raw\" id=\"%s\">%s</section>\n", html.EscapeString(id), c.Source)
			}
		}
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// WriteHTMLFile writes the HTML page of nb to the named file.
func WriteHTMLFile(name string, nb *Notebook, opts HTMLOptions) error {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, nb, opts); err != nil {
		return err
	}
	return writeFileAtomic(name, buf.Bytes())
}

func countText(n *int) string {
	if n == nil {
		return "&nbsp;"
	}
	return fmt.Sprint(*n)
}

var headingLine = regexp.MustCompile(`(?m)^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$`)

// notebookTitle is the first markdown heading, without markup.
func notebookTitle(nb *Notebook) string {
	for _, c := range nb.Cells {
		if c.Type != Markdown {
			continue
		}
		if m := headingLine.FindStringSubmatch(c.Source); m != nil {
			return strings.NewReplacer("*", "", "_", "", "`", "").Replace(m[1])
		}
	}
	return "Notebook"
}

// writeOutput draws an output; a widget view is drawn from the widget states
// saved in the notebook (model ID → saved state), if it is there.
func writeOutput(b *bytes.Buffer, o *Output, widgets map[string]any) {
	switch o.Type {
	case Stream:
		fmt.Fprintf(b, "<div class=\"output\"><div class=\"prompt\"></div><pre class=\"stream %s\">%s</pre></div>\n",
			html.EscapeString(o.Name), html.EscapeString(stripANSI(o.Text)))
	case ErrorOutput:
		text := strings.Join(o.Traceback, "\n")
		if strings.TrimSpace(text) == "" {
			text = o.EName + ": " + o.EValue
		}
		fmt.Fprintf(b, "<div class=\"output\"><div class=\"prompt\"></div><pre class=\"error\">%s</pre></div>\n",
			html.EscapeString(stripANSI(text)))
	case DisplayData, ExecuteResult:
		prompt := ""
		class := "display"
		if o.Type == ExecuteResult {
			prompt = "Out[" + countText(o.ExecutionCount) + "]:"
			class = "result"
		}
		fmt.Fprintf(b, "<div class=\"output %s\"><div class=\"prompt out\">%s</div>", class, prompt)
		if view, ok := o.Data[widgetViewMIME].(map[string]any); ok {
			if h, ok := widgetHTML(str(view["model_id"]), widgets); ok {
				b.WriteString("<div class=\"html\">" + h + "</div></div>\n")
				return
			}
		}
		b.WriteString(renderBundle(o.Data, o.Metadata))
		b.WriteString("</div>\n")
	}
}

// renderBundle renders the richest MIME type of a bundle that a static page can show.
func renderBundle(data, md map[string]any) string {
	for _, mime := range outputOrder {
		v, ok := data[mime]
		if !ok {
			continue
		}
		s, isString := v.(string)
		switch mime {
		case "text/html":
			if isString {
				return "<div class=\"html\">" + s + "</div>"
			}
		case "text/markdown":
			if isString {
				return "<div class=\"rendered\">" + renderMarkdown(s, nil) + "</div>"
			}
		case "image/svg+xml", "image/png", "image/jpeg", "image/gif":
			if !isString {
				continue
			}
			payload := strings.TrimSpace(s)
			if mime == "image/svg+xml" {
				payload = base64.StdEncoding.EncodeToString([]byte(s))
			} else {
				payload = strings.Join(strings.Fields(payload), "")
			}
			attrs := ""
			if m, ok := md[mime].(map[string]any); ok {
				for _, k := range []string{"width", "height"} {
					if n, ok := intValue(m[k]); ok && n > 0 {
						attrs += fmt.Sprintf(" %s=\"%d\"", k, n)
					}
				}
			}
			alt := "figure"
			if t, ok := data["text/plain"].(string); ok {
				alt = t
			}
			return fmt.Sprintf("<img class=\"figure\" alt=\"%s\" src=\"data:%s;base64,%s\"%s>", html.EscapeString(alt), mime, payload, attrs)
		case "text/latex", "text/plain":
			if isString {
				return "<pre class=\"text\">" + html.EscapeString(stripANSI(s)) + "</pre>"
			}
		case "application/json":
			j, err := json.MarshalIndent(v, "", "  ")
			if err == nil {
				return "<pre class=\"json\">" + html.EscapeString(string(j)) + "</pre>"
			}
		}
	}
	var types []string
	for k := range data {
		types = append(types, k)
	}
	sort.Strings(types)
	return "<pre class=\"text\">" + html.EscapeString("["+strings.Join(types, ", ")+"]") + "</pre>"
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07`)

func stripANSI(s string) string { return ansiEscape.ReplaceAllString(s, "") }

var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	goldmark.WithRendererOptions(
		gmhtml.WithUnsafe(), // as Jupyter, markdown cells may hold HTML
		renderer.WithNodeRenderers(util.Prioritized(codeBlockRenderer{}, 100)),
	),
)

// renderMarkdown renders a markdown cell; images that refer to the cell's
// attachments ("attachment:name") get them as data URIs.
func renderMarkdown(src string, attachments map[string]any) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "<pre>" + html.EscapeString(src) + "</pre>"
	}
	out := buf.String()
	for name, a := range attachments {
		bundle, ok := a.(map[string]any)
		if !ok {
			continue
		}
		for mime, v := range bundle {
			s, ok := v.(string)
			if !ok || !strings.HasPrefix(mime, "image/") {
				continue
			}
			payload := strings.Join(strings.Fields(s), "")
			if mime == "image/svg+xml" {
				payload = base64.StdEncoding.EncodeToString([]byte(s))
			}
			out = strings.ReplaceAll(out, `src="attachment:`+html.EscapeString(name)+`"`, `src="data:`+mime+`;base64,`+payload+`"`)
			break
		}
	}
	return out
}

// codeBlockRenderer renders fenced code blocks, highlighting those marked go.
type codeBlockRenderer struct{}

func (codeBlockRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, renderCodeBlock)
}

func renderCodeBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	var code bytes.Buffer
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		code.Write(line.Value(source))
	}
	lang := string(n.Language(source))
	if lang == "go" {
		fmt.Fprintf(w, "<pre class=\"source go\"><code>%s</code></pre>\n", HighlightGo(code.String()))
	} else {
		class := ""
		if lang != "" {
			class = fmt.Sprintf(" class=\"language-%s\"", html.EscapeString(lang))
		}
		fmt.Fprintf(w, "<pre><code%s>%s</code></pre>\n", class, html.EscapeString(code.String()))
	}
	return ast.WalkSkipChildren, nil
}

// ExportHTML reads the named notebook and writes its HTML page to out.
func ExportHTML(notebookFile, out string, opts HTMLOptions) error {
	nb, err := ReadFile(notebookFile)
	if err != nil {
		return err
	}
	return WriteHTMLFile(out, nb, opts)
}

const pageCSS = `
:root { --prompt: 7.5em; --fg: #1f2328; --muted: #6e7781; --border: #d0d7de; --code-bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, "Liberation Sans", sans-serif; }
main.notebook { max-width: 1100px; margin: 0 auto; padding: 1.5em 1em 4em; }
.cell { display: block; margin: 0.6em 0; }
.input, .output { display: flex; align-items: flex-start; }
.prompt { flex: 0 0 var(--prompt); padding: 0.45em 0.6em 0 0; text-align: right;
  font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; color: var(--muted); }
.prompt.in { color: #303f9f; }
.prompt.out { color: #d84315; }
.markdown { display: flex; }
.rendered, .html { flex: 1 1 auto; min-width: 0; }
.markdown .rendered { padding: 0 0.4em; }
pre { margin: 0; overflow-x: auto; tab-size: 4; font: 13px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre.source { flex: 1 1 auto; min-width: 0; padding: 0.45em 0.7em; background: var(--code-bg);
  border: 1px solid var(--border); border-radius: 4px; }
.rendered pre { padding: 0.45em 0.7em; background: var(--code-bg); border-radius: 4px; }
.output > pre, .output > .html, .output > img, .output > .rendered { flex: 1 1 auto; min-width: 0; }
.output { margin-top: 0.2em; }
.output > pre { padding: 0.3em 0.7em; white-space: pre-wrap; word-break: break-word; }
pre.stderr { background: #fff5f5; }
pre.error { background: #ffebee; color: #b71c1c; }
img.figure { flex: 0 1 auto; max-width: 100%; height: auto; }
.rendered h1, .rendered h2, .rendered h3 { line-height: 1.25; margin: 1em 0 0.4em; }
.rendered h1 { font-size: 1.9em; } .rendered h2 { font-size: 1.45em; } .rendered h3 { font-size: 1.2em; }
.rendered p, .rendered ul, .rendered ol, .rendered blockquote { margin: 0.5em 0; }
.rendered code { font: 0.9em "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--code-bg);
  padding: 0.1em 0.3em; border-radius: 3px; }
.rendered pre code { background: none; padding: 0; }
.rendered blockquote { border-left: 3px solid var(--border); padding-left: 1em; color: #57606a; }
.rendered img { max-width: 100%; }
table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.93em; }
th, td { border: 1px solid var(--border); padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f6f8fa; } td:first-child, th:first-child { text-align: left; }
.go .k { color: #008000; font-weight: bold; } .go .kt { color: #b00040; } .go .nb { color: #008000; }
.go .kc { color: #008000; font-weight: bold; } .go .s { color: #ba2121; } .go .m { color: #666; }
.go .c { color: #3d7b7b; font-style: italic; }
@media (max-width: 700px) { :root { --prompt: 0; } .prompt { display: none; } }
`

package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"reflect"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"

	"github.com/gocvx/gocvx/solver"
)

// MIME types of the payloads Render produces.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMELaTeX    = "text/latex"
	MIMESVG      = "image/svg+xml"
	MIMEPNG      = "image/png"
	MIMEJPEG     = "image/jpeg"
	MIMEJSON     = "application/json"
)

// The interfaces below let a type choose its own rich representation without
// importing display: a value whose type has any of these methods renders through them
// (several at once give a bundle with several MIME types; the front end shows the
// richest it supports).

// HTMLRenderer is a type that renders itself as HTML (text/html).
type HTMLRenderer interface{ HTML() string }

// MarkdownRenderer is a type that renders itself as Markdown (text/markdown).
type MarkdownRenderer interface{ Markdown() string }

// LaTeXRenderer is a type that renders itself as LaTeX (text/latex), e.g. "$x^2$".
type LaTeXRenderer interface{ LaTeX() string }

// SVGRenderer is a type that renders itself as an SVG document (image/svg+xml).
type SVGRenderer interface{ SVG() string }

// PNGRenderer is a type that renders itself as PNG-encoded bytes (image/png).
type PNGRenderer interface{ PNG() []byte }

// JPEGRenderer is a type that renders itself as JPEG-encoded bytes (image/jpeg).
type JPEGRenderer interface{ JPEG() []byte }

// Renderer is a type that builds its whole bundle itself (types that import display).
type Renderer interface{ Render() Bundle }

// DataRenderer is a type that builds its whole bundle without importing display: it
// returns MIME type → payload, as Bundle.Data holds it.
type DataRenderer interface{ Render() map[string]any }

// Render returns the MIME bundle of v; it never fails and never publishes. The bundle
// always holds "text/plain" (the %+v form of v, or a short description for images and
// markup) and a non-nil Metadata. In order of precedence:
//
//   - a Bundle (or *Bundle) is returned as it is, with text/plain added if missing;
//   - a Renderer or DataRenderer builds its own bundle;
//   - *solver.Result and solver.Result: an HTML summary with the convergence plot;
//   - *plot.Plot: SVG and PNG at DefaultWidth × DefaultHeight (a Figure sets the size);
//   - image.Image: PNG, with its width and height as metadata;
//   - mat.Matrix: text/plain in gonum's formatted layout (large matrices excerpted);
//   - error: its message;
//   - any type with HTML, Markdown, LaTeX, SVG, PNG or JPEG methods (see the
//     interfaces above): each of those representations.
//
// A panic in one of v's own methods is caught; the bundle then holds text/plain only,
// with the panic noted.
func Render(v any) (b Bundle) {
	defer func() {
		if r := recover(); r != nil {
			b = textBundle(fmt.Sprintf("%s (display: rendering panicked: %v)", plainText(v), r))
		}
	}()
	if isNil(v) {
		return textBundle(fmt.Sprintf("%v", v))
	}
	switch v := v.(type) {
	case Bundle:
		return normalize(v)
	case *Bundle:
		return normalize(*v)
	case Renderer:
		return normalize(v.Render())
	case DataRenderer:
		return normalize(Bundle{Data: v.Render()})
	case *solver.Result:
		return renderResult(v)
	case solver.Result:
		return renderResult(&v)
	case Figure:
		return v.Render()
	case *plot.Plot:
		return (&Figure{Plot: v}).Render()
	case image.Image:
		return renderImage(v)
	case mat.Matrix:
		return textBundle(matrixText(v))
	case error:
		return textBundle(v.Error())
	}
	b = Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	if r, ok := v.(HTMLRenderer); ok {
		b.Data[MIMEHTML] = r.HTML()
	}
	if r, ok := v.(MarkdownRenderer); ok {
		b.Data[MIMEMarkdown] = r.Markdown()
	}
	if r, ok := v.(LaTeXRenderer); ok {
		b.Data[MIMELaTeX] = r.LaTeX()
	}
	if r, ok := v.(SVGRenderer); ok {
		b.Data[MIMESVG] = r.SVG()
	}
	if r, ok := v.(PNGRenderer); ok {
		addImage(b, MIMEPNG, r.PNG())
	}
	if r, ok := v.(JPEGRenderer); ok {
		addImage(b, MIMEJPEG, r.JPEG())
	}
	b.Data[MIMEText] = plainText(v)
	return b
}

// isNil reports whether v is nil or a nil pointer, map, slice, func or interface
// inside an interface, whose methods could not be called safely.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// plainText is the text/plain form of an arbitrary value: %+v, which calls String or
// Error when the type has one and names struct fields otherwise.
func plainText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprintf("%+v", v)
}

func textBundle(s string) Bundle {
	return Bundle{Data: map[string]any{MIMEText: s}, Metadata: map[string]any{}}
}

// normalize copies b's maps (so that callers may keep modifying theirs), makes them
// non-nil and adds a text/plain fallback derived from the richest payload.
func normalize(b Bundle) Bundle {
	out := Bundle{Data: make(map[string]any, len(b.Data)+1), Metadata: make(map[string]any, len(b.Metadata))}
	for k, v := range b.Data {
		out.Data[k] = v
	}
	for k, v := range b.Metadata {
		out.Metadata[k] = v
	}
	if _, ok := out.Data[MIMEText]; !ok {
		out.Data[MIMEText] = fallbackText(out)
	}
	return out
}

// fallbackText describes a bundle without text/plain in plain text: markup as its
// source (HTML with tags removed), images by type and size.
func fallbackText(b Bundle) string {
	if s, ok := b.Data[MIMEMarkdown].(string); ok {
		return s
	}
	if s, ok := b.Data[MIMELaTeX].(string); ok {
		return s
	}
	if s, ok := b.Data[MIMEHTML].(string); ok {
		return stripTags(s)
	}
	if v, ok := b.Data[MIMEJSON]; ok {
		j, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			return string(j)
		}
	}
	for _, m := range []string{MIMESVG, MIMEPNG, MIMEJPEG} {
		if _, ok := b.Data[m]; ok {
			if md, ok := b.Metadata[m].(map[string]any); ok && md["width"] != nil {
				return fmt.Sprintf("<%s %v×%v>", m, md["width"], md["height"])
			}
			return "<" + m + ">"
		}
	}
	return ""
}

// stripTags returns the text of an HTML fragment: tags removed, entities unescaped,
// runs of blank lines collapsed. It is a fallback for text-only front ends, not a parser.
func stripTags(s string) string {
	var sb strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			sb.WriteRune(r)
		}
	}
	lines := strings.Split(html.UnescapeString(sb.String()), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimRight(l, " \t"); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// addImage stores encoded image bytes base64-encoded under mime, with the pixel size
// decoded from the header as width/height metadata when it can be read.
func addImage(b Bundle, mime string, data []byte) {
	b.Data[mime] = base64.StdEncoding.EncodeToString(data)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		b.Metadata[mime] = map[string]any{"width": cfg.Width, "height": cfg.Height}
	}
}

func renderImage(img image.Image) Bundle {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return textBundle("display: cannot encode image: " + err.Error())
	}
	r := img.Bounds()
	b := Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	b.Data[MIMEPNG] = base64.StdEncoding.EncodeToString(buf.Bytes())
	b.Metadata[MIMEPNG] = map[string]any{"width": r.Dx(), "height": r.Dy()}
	b.Data[MIMEText] = fmt.Sprintf("<%T %d×%d>", img, r.Dx(), r.Dy())
	return b
}

// matrixText formats a matrix as gonum's Formatted does, excerpting matrices with more
// than 12 rows or columns to their first and last 4.
func matrixText(m mat.Matrix) string {
	r, c := m.Dims()
	opts := []mat.FormatOption{mat.Squeeze()}
	if r > 12 || c > 12 {
		opts = append(opts, mat.Excerpt(4))
	}
	return fmt.Sprintf("%T %d×%d\n%v", m, r, c, mat.Formatted(m, opts...))
}

// AsText returns a bundle holding s as plain text.
func AsText(s string) Bundle { return textBundle(s) }

// AsHTML returns a bundle holding s as HTML, with its text (tags removed) as plain text.
func AsHTML(s string) Bundle {
	return normalize(Bundle{Data: map[string]any{MIMEHTML: s}})
}

// AsMarkdown returns a bundle holding s as Markdown (and as plain text).
func AsMarkdown(s string) Bundle {
	return normalize(Bundle{Data: map[string]any{MIMEMarkdown: s}})
}

// AsLaTeX returns a bundle holding s as LaTeX, e.g. `$\|u\|_2^2$` (and as plain text).
func AsLaTeX(s string) Bundle {
	return normalize(Bundle{Data: map[string]any{MIMELaTeX: s}})
}

// AsSVG returns a bundle holding the SVG document s.
func AsSVG(s string) Bundle {
	return normalize(Bundle{Data: map[string]any{MIMESVG: s}})
}

// AsPNG returns a bundle holding PNG-encoded bytes, with the image's pixel size as
// width/height metadata when its header is valid.
func AsPNG(data []byte) Bundle {
	b := Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	addImage(b, MIMEPNG, data)
	return normalize(b)
}

// AsJPEG returns a bundle holding JPEG-encoded bytes, with the image's pixel size as
// width/height metadata when its header is valid.
func AsJPEG(data []byte) Bundle {
	b := Bundle{Data: map[string]any{}, Metadata: map[string]any{}}
	addImage(b, MIMEJPEG, data)
	return normalize(b)
}

// AsJSON returns a bundle holding v as application/json (front ends show a tree) and
// its indented JSON text as plain text. v is converted to plain JSON values (maps,
// slices, strings, float64, bool, nil) through encoding/json; a value that does not
// marshal gives a text/plain bundle with the error.
func AsJSON(v any) Bundle {
	j, err := json.Marshal(v)
	if err != nil {
		return textBundle("display: " + err.Error())
	}
	var decoded any
	if err := json.Unmarshal(j, &decoded); err != nil {
		return textBundle("display: " + err.Error())
	}
	return normalize(Bundle{Data: map[string]any{MIMEJSON: decoded}})
}

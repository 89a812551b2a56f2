package display

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot/plotter"
)

type htmlThing struct{}

func (htmlThing) HTML() string   { return "<b>bold</b> &amp; more" }
func (htmlThing) String() string { return "thing" }

type multiThing struct{}

func (multiThing) Markdown() string { return "# title" }
func (multiThing) LaTeX() string    { return "$x^2$" }
func (multiThing) SVG() string      { return "<svg></svg>" }

type pngThing struct{ img image.Image }

func (p pngThing) PNG() []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, p.img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

type jpegThing struct{}

func (jpegThing) JPEG() []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3)), nil); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

type dataThing struct{}

func (dataThing) Render() map[string]any { return map[string]any{MIMEHTML: "<i>x</i>"} }

type panicky struct{}

func (*panicky) HTML() string { panic("boom") }

type nilHTML struct{ s string }

func (n *nilHTML) HTML() string { return n.s }

func TestRender(t *testing.T) {
	small := image.NewGray(image.Rect(0, 0, 3, 2))
	for _, tc := range []struct {
		name string
		v    any
		want map[string]string // MIME type → payload (for strings), "" means present
	}{
		{"nil", nil, map[string]string{MIMEText: "<nil>"}},
		{"int", 42, map[string]string{MIMEText: "42"}},
		{"string", "hello\nworld", map[string]string{MIMEText: "hello\nworld"}},
		{"struct", struct{ A, B int }{1, 2}, map[string]string{MIMEText: "{A:1 B:2}"}},
		{"error", errors.New("solver: bad"), map[string]string{MIMEText: "solver: bad"}},
		{"html method", htmlThing{}, map[string]string{MIMEText: "thing", MIMEHTML: "<b>bold</b> &amp; more"}},
		{"several methods", multiThing{}, map[string]string{MIMEMarkdown: "# title", MIMELaTeX: "$x^2$", MIMESVG: "<svg></svg>", MIMEText: "{}"}},
		{"data renderer", dataThing{}, map[string]string{MIMEHTML: "<i>x</i>", MIMEText: "x"}},
		{"bundle", AsHTML("<p>a &lt; b</p>"), map[string]string{MIMEHTML: "<p>a &lt; b</p>", MIMEText: "a < b"}},
		{"bundle pointer", &Bundle{Data: map[string]any{MIMEMarkdown: "*m*"}}, map[string]string{MIMEMarkdown: "*m*", MIMEText: "*m*"}},
		{"latex", AsLaTeX(`$\beta$`), map[string]string{MIMELaTeX: `$\beta$`, MIMEText: `$\beta$`}},
		{"text", AsText("plain"), map[string]string{MIMEText: "plain"}},
		{"svg", AsSVG("<svg/>"), map[string]string{MIMESVG: "<svg/>", MIMEText: "<image/svg+xml>"}},
		{"image", small, map[string]string{MIMEPNG: "", MIMEText: "<*image.Gray 3×2>"}},
		{"png method", pngThing{small}, map[string]string{MIMEPNG: "", MIMEText: ""}},
		{"jpeg method", jpegThing{}, map[string]string{MIMEJPEG: "", MIMEText: "{}"}},
		{"jpeg bytes", AsJPEG(jpegThing{}.JPEG()), map[string]string{MIMEJPEG: "", MIMEText: "<image/jpeg 4×3>"}},
		{"png bytes", AsPNG(pngThing{small}.PNG()), map[string]string{MIMEPNG: "", MIMEText: "<image/png 3×2>"}},
		{"nil pointer with method", (*nilHTML)(nil), map[string]string{MIMEText: "<nil>"}},
		{"panicking method", &panicky{}, map[string]string{MIMEText: "&{} (display: rendering panicked: boom)"}},
		{"matrix", mat.NewDense(2, 2, []float64{1, 2, 3, 4}), map[string]string{MIMEText: "*mat.Dense 2×2\n⎡1  2⎤\n⎣3  4⎦"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Render(tc.v)
			if b.Metadata == nil {
				t.Error("Metadata is nil")
			}
			if len(b.Data) != len(tc.want) {
				t.Errorf("got MIME types %v, want %d", keys(b.Data), len(tc.want))
			}
			for mime, want := range tc.want {
				got, ok := b.Data[mime]
				if !ok {
					t.Errorf("no %s in %v", mime, keys(b.Data))
					continue
				}
				s, _ := got.(string)
				if want == "" {
					continue
				}
				if s != want {
					t.Errorf("%s = %q, want %q", mime, s, want)
				}
			}
		})
	}
}

func TestRenderImageMetadata(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 5, 7))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	b := Render(img)
	md, ok := b.Metadata[MIMEPNG].(map[string]any)
	if !ok || md["width"] != 5 || md["height"] != 7 {
		t.Fatalf("metadata = %v, want width 5 height 7", b.Metadata)
	}
	raw, err := base64.StdEncoding.DecodeString(b.Data[MIMEPNG].(string))
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := got.At(1, 1).RGBA(); r != 0xffff {
		t.Errorf("pixel (1,1) lost its colour: %v", got.At(1, 1))
	}
}

func TestRenderCopiesBundle(t *testing.T) {
	orig := Bundle{Data: map[string]any{MIMEHTML: "<p>x</p>"}}
	b := Render(orig)
	b.Data["extra"] = 1
	if len(orig.Data) != 1 {
		t.Errorf("Render shared the caller's map: %v", orig.Data)
	}
}

func TestAsJSON(t *testing.T) {
	b := AsJSON(struct {
		N    int      `json:"n"`
		Tags []string `json:"tags"`
	}{3, []string{"a"}})
	m, ok := b.Data[MIMEJSON].(map[string]any)
	if !ok {
		t.Fatalf("application/json is %T, want a decoded object", b.Data[MIMEJSON])
	}
	if m["n"] != 3.0 || len(m["tags"].([]any)) != 1 {
		t.Errorf("decoded JSON = %v", m)
	}
	if want := "{\n  \"n\": 3,\n  \"tags\": [\n    \"a\"\n  ]\n}"; b.Data[MIMEText] != want {
		t.Errorf("text/plain = %q, want %q", b.Data[MIMEText], want)
	}
	bad := AsJSON(func() {})
	if _, ok := bad.Data[MIMEJSON]; ok || !strings.HasPrefix(bad.Data[MIMEText].(string), "display: json:") {
		t.Errorf("unmarshalable value gave %v", bad.Data)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestRenderPlot(t *testing.T) {
	p := newPlot("squares", "x", "y")
	addLine(p, 0, "", plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 4}, {X: 3, Y: 9}})
	for name, v := range map[string]any{"plot": p, "figure value": Figure{Plot: p}} {
		t.Run(name, func(t *testing.T) {
			b := Render(v)
			if b.Data[MIMEText] != "<figure 624×384: squares>" {
				t.Errorf("text/plain = %q", b.Data[MIMEText])
			}
			if svg, _ := b.Data[MIMESVG].(string); !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, ">squares</text>") {
				t.Errorf("image/svg+xml is not the plot's SVG: %.100q", svg)
			}
			md, _ := b.Metadata[MIMEPNG].(map[string]any)
			if md["width"] != 624 || md["height"] != 384 {
				t.Errorf("PNG metadata = %v, want the CSS size 624×384", md)
			}
			raw, err := base64.StdEncoding.DecodeString(b.Data[MIMEPNG].(string))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
				t.Errorf("PNG does not decode: %v", err)
			}
		})
	}
}

package display

import (
	"math"
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// scripts is the text handler of the plots' titles, labels, tick labels and legends.
// It draws Unicode subscripts and superscripts (x₁₂, log₁₀, 10⁻⁶, xᵀ) as smaller
// regular characters, lowered or raised: the embedded Liberation fonts lack most of
// those characters or give them the advance of a full digit, so "log₁₀" came out as
// "log₁ ₀". With caret set (tick labels of log axes) the text after '^' in
// "base^exponent" is a superscript too. Lines are separated by '\n' and drawn like
// text.Plain draws them; text without scripts is drawn exactly as text.Plain would.
type scripts struct {
	caret bool
}

// Script size and offsets, relative to the font size and ascent.
const (
	scriptScale = 0.7
	supRaise    = 0.45
	subLower    = 0.15
)

// scriptRunes maps the Unicode subscript (-1) and superscript (+1) characters the
// labels use to the characters drawn in their place.
var scriptRunes = func() map[rune]scriptRune {
	m := map[rune]scriptRune{}
	add := func(shift int, from, to string) {
		t := []rune(to)
		for i, r := range []rune(from) {
			m[r] = scriptRune{t[i], shift}
		}
	}
	add(-1, "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+−=()aeoxəhklmnpstijruv")
	add(+1, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀᵏ", "0123456789+−=()inTk")
	return m
}()

type scriptRune struct {
	r     rune
	shift int // -1 subscript, +1 superscript
}

// segment is a run of text drawn at one size and offset.
type segment struct {
	text  string
	shift int // 0 normal, -1 subscript, +1 superscript
}

// segments splits a line into runs of normal text and of scripts.
func (h scripts) segments(line string) []segment {
	var segs []segment
	var cur strings.Builder
	shift := 0
	flush := func(next int) {
		if cur.Len() > 0 {
			segs = append(segs, segment{cur.String(), shift})
			cur.Reset()
		}
		shift = next
	}
	base, exp, hasCaret := line, "", false
	if h.caret {
		base, exp, hasCaret = strings.Cut(line, "^")
	}
	for _, r := range base {
		sr, ok := scriptRunes[r]
		if !ok {
			sr = scriptRune{r, 0}
		}
		if sr.shift != shift {
			flush(sr.shift)
		}
		cur.WriteRune(sr.r)
	}
	flush(0)
	if hasCaret && exp != "" {
		segs = append(segs, segment{exp, 1})
	}
	return segs
}

func (scripts) plain() text.Plain { return text.Plain{Fonts: font.DefaultCache} }

func (h scripts) Cache() *font.Cache { return font.DefaultCache }

func (h scripts) Extents(fnt font.Font) font.Extents { return h.plain().Extents(fnt) }

func (h scripts) Lines(txt string) []string { return h.plain().Lines(txt) }

// scriptFont returns the font of a segment.
func scriptFont(fnt font.Font, shift int) font.Font {
	if shift != 0 {
		fnt.Size = vg.Length(scriptScale) * fnt.Size
	}
	return fnt
}

// width returns the advance of a line.
func (h scripts) width(line string, fnt font.Font) vg.Length {
	w := vg.Length(0)
	for _, sg := range h.segments(line) {
		f := scriptFont(fnt, sg.shift)
		fc := font.DefaultCache.Lookup(f, f.Size)
		w += fc.Width(sg.text)
	}
	return w
}

func (h scripts) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	_, height, depth = h.plain().Box(txt, fnt)
	return h.width(txt, fnt), height, depth
}

// Draw places the lines as text.Plain does (rotation, alignment, line spacing) and
// draws each segment of a line at its size and offset.
func (h scripts) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if len(txt) == 0 {
		return
	}
	face := font.DefaultCache.Lookup(sty.Font, sty.Font.Size)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin

	lines := h.Lines(txt)
	ht := sty.Height(txt)
	asc := face.Extents().Ascent
	pt.Y += ht*vg.Length(sty.YAlign) - asc
	for i, line := range lines {
		x := pt.X + vg.Length(sty.XAlign)*h.width(line, sty.Font)
		y := pt.Y + vg.Length(len(lines)-i)*sty.Font.Size
		for _, sg := range h.segments(line) {
			f := scriptFont(sty.Font, sg.shift)
			fc := font.DefaultCache.Lookup(f, f.Size)
			dy := vg.Length(0)
			switch sg.shift {
			case 1:
				dy = vg.Length(supRaise) * asc
			case -1:
				dy = -vg.Length(subLower) * asc
			}
			c.FillString(fc, vg.Point{X: x, Y: y + dy}, sg.text)
			x += fc.Width(sg.text)
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}

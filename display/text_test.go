package display

import (
	"reflect"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
)

// TestScriptSegments: Unicode sub- and superscripts become runs of regular characters
// drawn smaller and shifted; with caret, the text after '^' is a superscript.
func TestScriptSegments(t *testing.T) {
	tests := []struct {
		h    scripts
		in   string
		want []segment
	}{
		{scripts{}, "plain text", []segment{{"plain text", 0}}},
		{scripts{}, "log₁₀ of the time", []segment{{"log", 0}, {"10", -1}, {" of the time", 0}}},
		{scripts{}, "x₁₂", []segment{{"x", 0}, {"12", -1}}},
		{scripts{}, "gap 10⁻⁶ at ρ₀", []segment{{"gap 10", 0}, {"−6", 1}, {" at ρ", 0}, {"0", -1}}},
		{scripts{}, "xᵀu", []segment{{"x", 0}, {"T", 1}, {"u", 0}}},
		{scripts{}, "10^3", []segment{{"10^3", 0}}},
		{scripts{caret: true}, "10^−3", []segment{{"10", 0}, {"−3", 1}}},
	}
	for _, tc := range tests {
		if got := tc.h.segments(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v.segments(%q) = %+v, want %+v", tc.h, tc.in, got, tc.want)
		}
	}
}

// TestScriptsMatchPlain: text without scripts measures as text.Plain measures it, and
// a label with a two-digit subscript is narrower than the same digits at full size
// (the fonts' subscript glyphs had full-digit advances: "log₁ ₀").
func TestScriptsMatchPlain(t *testing.T) {
	fnt := font.From(sansFont, 11)
	plain := text.Plain{Fonts: font.DefaultCache}
	for _, s := range []string{"time (s)", "ρ = 0.1", "test accuracy (%)"} {
		w1, h1, d1 := scripts{}.Box(s, fnt)
		w2, h2, d2 := plain.Box(s, fnt)
		if w1 != w2 || h1 != h2 || d1 != d2 {
			t.Errorf("%q: scripts box %v %v %v, plain %v %v %v", s, w1, h1, d1, w2, h2, d2)
		}
	}
	sub, _, _ := scripts{}.Box("log₁₀", fnt)
	full, _, _ := plain.Box("log10", fnt)
	if !(sub < full) {
		t.Errorf("log₁₀ is %v wide, log10 %v", sub, full)
	}
}

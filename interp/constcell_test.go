package interp

import (
	"context"
	"reflect"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// TestConstCells runs constant cells with their values from the type checker
// (constcell.go) and in the interpreter: the outcomes are the same, and the
// ones that the checker's value cannot give (an overflow, a complex, a named
// type) come from the interpreter.
func TestConstCells(t *testing.T) {
	cells := []struct {
		code   string
		folded bool // shown from the checker's value
	}{
		{"const k = 3\ntype Celsius float64\nconst boiling Celsius = 100", false},
		{"1 + 1", true},
		{"0.1 + 0.2", true},
		{"'a'", true},
		{"1 << 62", true},
		{"-1 >> 1", true},
		{"7 / 2", true},
		{"7 / 2.0", true},
		{"math.Pi", true},
		{"math.MaxUint64", false}, // overflows int
		{"uint64(math.MaxUint64)", true},
		{"uint(1 << 63)", true},
		{"uintptr(8)", true},
		{"int8(-128)", true},
		{"int16(300)", true},
		{"int32(-5)", true},
		{"int64(1) << 40", true},
		{"uint8(200)", true},
		{"uint16(65535)", true},
		{"uint32(1 << 31)", true},
		{"byte('x')", true},
		{"float32(0.1)", true},
		{"float32(1e-45)", true},
		{"1e-320", true},
		{"1e300 * 1e10", false},  // overflows float64
		{"1 << 70", false},       // overflows int
		{"2i", false},            // complex
		{"time.Second", false},   // a named type with a String method
		{"boiling", false},       // a named type of the cells
		{"k * 2", true},          // a constant of the cells
		{"len(\"héllo\")", true}, // a constant call of a builtin
		{"\"a\" + \"b\\n\"", true},
		{"true && !false", true},
		{"x := 3", false},
		{"x", false},
	}
	outcomes := func(noConst bool) []cellio.Outcome {
		s, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.noConst = noConst
		var outs []cellio.Outcome
		for i, c := range cells {
			hits, folded := s.cacheHits, s.folded
			// Twice: the second comes from the cache, unless the session is dirty.
			out := s.Execute(context.Background(), cellio.Cell{Code: c.code, Number: 2*i + 1, Output: &recorder{}})
			wasFolded, dirty := s.folded == folded+1, s.dirty
			again := s.Execute(context.Background(), cellio.Cell{Code: c.code, Number: 2*i + 2, Output: &recorder{}})
			if !reflect.DeepEqual(out, again) && out.Error == nil {
				t.Errorf("%q: %v, then %v from the cache", c.code, resultText(out), resultText(again))
			}
			if !noConst && c.folded != wasFolded {
				t.Errorf("%q: shown from the checker's value = %v, want %v", c.code, wasFolded, c.folded)
			}
			if !noConst && c.folded && !dirty && s.cacheHits != hits+1 {
				// (A dirty session, after a cell the interpreter refused, is
				// not served from the cache.)
				t.Errorf("%q: the constant cell run again did not come from the cache", c.code)
			}
			outs = append(outs, out)
		}
		return outs
	}
	fast, slow := outcomes(false), outcomes(true)
	for i, c := range cells {
		if !reflect.DeepEqual(fast[i], slow[i]) {
			t.Errorf("%q: %q from the checker's value, %q from the interpreter", c.code, resultText(fast[i]), resultText(slow[i]))
		}
		if got := resultText(fast[i]); c.folded && (fast[i].Error != nil || got == "") {
			t.Errorf("%q: %q", c.code, got)
		}
	}
}

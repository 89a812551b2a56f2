package interp

import "testing"

// TestIsBlankCode: a cell of space and comments is blank, one with any token
// is not.
func TestIsBlankCode(t *testing.T) {
	for code, want := range map[string]bool{
		"":                  true,
		" \n\t\n":           true,
		"// a comment\n":    true,
		"/* a */ // b":      true,
		"1":                 false,
		"\n\n// c\nx // d":  false,
		"/* a */ ;":         false,
		"\"unterminated":    false,
		"// c\nfunc f() {}": false,
		" / 2":              false,
	} {
		if got := isBlankCode(code); got != want {
			t.Errorf("isBlankCode(%q) = %v, want %v", code, got, want)
		}
	}
}

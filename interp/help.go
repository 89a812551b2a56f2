package interp

import "github.com/gocvx/gocvx/display"

// help answers "name?" and "%help" cells with a page.
func (s *Session) help(code string) (*display.Bundle, bool) { return nil, false }

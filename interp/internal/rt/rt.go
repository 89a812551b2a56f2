// Package rt holds types that generated cell code uses through the interpreter;
// they are exported so that yaegi can use them, and internal so that nothing
// else does.
package rt

import "github.com/gocvx/gocvx/display"

// Methods carries the rendering methods of a value of a cell-defined type, as
// interpreted method values (a value of an interpreted type that reaches
// compiled code has lost its methods).
type Methods struct {
	String, Error, HTML, Markdown, LaTeX, SVG func() string
	PNG, JPEG                                 func() []byte
	Render                                    func() display.Bundle
	Data                                      func() map[string]any
}

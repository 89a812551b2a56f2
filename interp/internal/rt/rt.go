// Package rt holds types that generated cell code uses through the interpreter;
// they are exported so that yaegi can use them, and internal so that nothing
// else does.
package rt

import (
	"context"
	"io"
	"time"

	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// Methods carries the rendering methods of a value of a cell-defined type, as
// interpreted method values (a value of an interpreted type that reaches
// compiled code has lost its methods).
type Methods struct {
	String, Error, HTML, Markdown, LaTeX, SVG func() string
	PNG, JPEG                                 func() []byte
	Render                                    func() display.Bundle
	Data                                      func() map[string]any
}

// Live is the context that cells get for context.Background and context.TODO: it
// follows the running cell, so that an interrupt of that cell cancels it (it is
// never cancelled between cells).
var Live context.Context = live{}

type live struct{}

func (live) Deadline() (time.Time, bool) { return cellrt.Context().Deadline() }
func (live) Done() <-chan struct{}       { return cellrt.Context().Done() }
func (live) Err() error                  { return cellrt.Context().Err() }
func (live) Value(key any) any           { return cellrt.Context().Value(key) }
func (live) String() string              { return "gocvx cell context" }

// Stream is the cell's standard output or error as interpreted code writes to
// it: os.Stdout and os.Stderr handed to a writer (fmt.Fprintln(os.Stderr, …))
// or written to directly (os.Stdout.WriteString) become a Stream, which writes
// where fmt.Println does, so that the two streams keep their order.
type Stream struct{ W io.Writer }

func (s *Stream) Write(p []byte) (int, error) { return s.W.Write(p) }

func (s *Stream) WriteString(str string) (int, error) { return s.W.Write([]byte(str)) }

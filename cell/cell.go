// Package cell gives Go code in a gocvx notebook cell access to the cell it runs in.
//
// The context of the running cell is cancelled when the user interrupts the cell
// (the notebook's stop button, interrupt_request or SIGINT). Pass it to every long
// computation so that an interrupt stops compiled code too:
//
//	res, err := solver.Solve(cell.Context(), prob, nil, nil)
package cell

import (
	"context"

	"github.com/gocvx/gocvx/internal/cellrt"
)

// Context returns the running cell's context; outside a cell it is context.Background.
func Context() context.Context { return cellrt.Context() }

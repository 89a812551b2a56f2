package widget

import (
	"context"

	"github.com/gocvx/gocvx/display"
)

// StopButton shows a Stop button in the running cell and returns a context
// derived from parent that a click on the button cancels, at once, even while the
// cell runs: hand it to a long call that watches its context, and the call returns
// early (solver.Solve and display.SolveLive return their result so far with status
// canceled). done disables the button, saying whether it stopped the work, and
// releases the context; call it when the call returned.
//
//	ctx, done := widget.StopButton(cell.Context())
//	res, err := display.SolveLive(ctx, prob, settings, &solver.ADMM{})
//	done()
//
// An interrupt still cancels ctx too when parent is the cell's context. A nil
// parent means context.Background.
func StopButton(parent context.Context) (ctx context.Context, done func()) {
	if parent == nil {
		parent = context.Background()
	}
	b := NewButton("Stop")
	b.SetButtonStyle("danger")
	b.SetIcon("stop")
	b.SetTooltip("stop the computation, keeping what it found so far")
	ctx, cancel := b.Context(parent)
	display.Show(b)
	return ctx, func() {
		stopped := ctx.Err() != nil && parent.Err() == nil
		cancel()
		b.SetDisabled(true)
		b.SetIcon("")
		if stopped {
			b.SetDescription("Stopped")
		} else {
			b.SetDescription("Done")
		}
	}
}

package display

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// The functions in this file are the only ones in display that publish: they send a
// bundle to the output that cellrt names, which the cell engine sets, in the ZeroMQ
// kernel and in the headless runner alike.
//
// Where output goes is decided when it is published, as ipykernel decides it: to the
// cell that is running then, whichever cell started the goroutine that publishes (a
// goroutine of an earlier cell, a Live or a Progress created in an earlier cell). What
// is published while no cell runs is held by the cell engine, with the text printed
// meanwhile and in its order, and shown at the start of the next cell.
//
// Outside any cell engine (a plain Go program, a test) there is no output to publish
// to: Show, ShowID, HTML and Markdown then print the text/plain form to standard
// output, and Update and Clear do nothing.

// Show publishes the rendering of v (see Render) as display_data in the running cell's
// output.
func Show(v any) {
	publish(Render(v), "", false)
}

// ShowID publishes the rendering of v like Show, under a new display ID, and returns the
// ID so that Update can later replace that output in place.
func ShowID(v any) string {
	id := newID()
	publish(Render(v), id, false)
	return id
}

// Update replaces the output that ShowID published under id with the rendering of v
// (update_display_data). Updating an ID that was never shown changes nothing.
func Update(id string, v any) {
	if id == "" {
		return
	}
	publish(Render(v), id, true)
}

// HTML publishes the HTML fragment s.
func HTML(s string) { publish(AsHTML(s), "", false) }

// Markdown publishes the Markdown text s.
func Markdown(s string) { publish(AsMarkdown(s), "", false) }

// Clear clears the running cell's output (clear_output). With wait set, the front end
// clears it only when the next output arrives, which avoids flicker when redrawing.
func Clear(wait bool) {
	if s := cellrt.Current(); s != nil {
		s.Clear(wait)
	}
}

func publish(b Bundle, id string, update bool) {
	publishTo(cellrt.Current(), b, id, update)
}

// publishTo sends b to out, or prints its text when out is nil (and this is not an
// update).
func publishTo(out cellio.Output, b Bundle, id string, update bool) {
	if out == nil {
		if !update {
			fmt.Fprintln(os.Stdout, b.Data[MIMEText])
		}
		return
	}
	out.Display(b, id, update)
}

// idPrefix makes display IDs unique across kernel sessions, as front ends keep
// outputs (and their IDs) of earlier sessions in the notebook.
var (
	idPrefix  = randomHex(6)
	idCounter atomic.Uint64
)

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("%x", os.Getpid())
	}
	return hex.EncodeToString(b)
}

func newID() string {
	return fmt.Sprintf("gocvx-%s-%d", idPrefix, idCounter.Add(1))
}

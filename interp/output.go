package interp

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gocvx/gocvx/cellio"
)

const (
	stdoutStream = 0
	stderrStream = 1

	// DefaultMaxOutput is how many bytes of stdout and stderr together a cell shows
	// by default; past it the rest is counted and dropped, and the cell ends with a
	// notice. Front ends become sluggish with outputs of many megabytes, and a cell
	// that prints in a loop should not exhaust the kernel's memory.
	DefaultMaxOutput = 2 << 20

	// flushInterval is how long streamed text may wait before it is sent: writes
	// are coalesced into one stream message per interval, not one per write.
	flushInterval = 50 * time.Millisecond

	// maxHeld bounds what goroutines print between cells, kept for the next cell.
	maxHeld = 64 << 10

	// maxHeldRich bounds the rich outputs (display_data, update_display_data,
	// clear_output) that goroutines publish between cells, kept for the next
	// cell; updates of one display ID count once (the latest is kept).
	maxHeldRich = 64

	// maxTraceLines bounds the frames kept for a traceback.
	maxTraceLines = 50
)

var streamNames = [2]string{"stdout", "stderr"}

// chunk is output waiting to be sent: text of a stream, or (rich set) a rich
// output held between cells.
type chunk struct {
	stream int
	text   []byte
	rich   *richOutput
}

// richOutput is a display_data (update_display_data with update) or, with clear,
// a clear_output.
type richOutput struct {
	bundle cellio.Bundle
	id     string
	update bool
	clear  bool
	wait   bool
}

// send delivers the rich output to out.
func (r *richOutput) send(out cellio.Output) {
	if r.clear {
		out.Clear(r.wait)
		return
	}
	out.Display(r.bundle, r.id, r.update)
}

// streamer coalesces the text a cell writes and sends it to the cell's Output in
// order, interleaved correctly with the cell's rich outputs. It is fed by the
// interpreter's writers and, when file descriptors are captured, by the pipe
// readers.
//
// Output belongs to the cell that is running when it is produced, whichever cell
// started the goroutine that produced it (as ipykernel sends it with the current
// request as parent). Output produced while no cell runs (by a goroutine of an
// earlier cell) is held, text and rich outputs in their order, and sent at the
// start of the next cell: up to maxHeld bytes of text and maxHeldRich rich
// outputs, the rest counted and dropped with a notice.
type streamer struct {
	mu          sync.Mutex
	pending     []chunk
	out         cellio.Output // the running cell's output; nil between cells
	discard     bool          // replaying: drop everything
	limit       int
	shown       int // bytes accepted for the running cell
	dropped     int // bytes dropped past the limit
	held        int // bytes pending between cells
	heldRich    int // rich outputs pending between cells
	droppedRich int // rich outputs dropped between cells past maxHeldRich

	emitMu sync.Mutex // serializes calls into out

	stop chan struct{}
	done chan struct{}
}

func newStreamer(limit int) *streamer {
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	s := &streamer{limit: limit, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *streamer) loop() {
	defer close(s.done)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.flush()
		}
	}
}

func (s *streamer) close() {
	close(s.stop)
	<-s.done
}

// write accepts text for a stream.
func (s *streamer) write(stream int, p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discard {
		return
	}
	if s.out == nil {
		// Between cells: keep a bounded amount for the next cell.
		if s.held+len(p) > maxHeld {
			s.dropped += len(p)
			return
		}
		s.held += len(p)
	} else {
		room := s.limit - s.shown
		if room <= 0 {
			s.dropped += len(p)
			return
		}
		if len(p) > room {
			s.dropped += len(p) - room
			p = p[:room]
		}
		s.shown += len(p)
	}
	if n := len(s.pending); n > 0 && s.pending[n-1].rich == nil && s.pending[n-1].stream == stream {
		s.pending[n-1].text = append(s.pending[n-1].text, p...)
		return
	}
	s.pending = append(s.pending, chunk{stream: stream, text: append([]byte(nil), p...)})
}

// flush sends what is pending to the running cell's output.
func (s *streamer) flush() {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	s.flushLocked()
}

func (s *streamer) flushLocked() {
	s.mu.Lock()
	out := s.out
	if out == nil {
		s.mu.Unlock()
		return
	}
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, c := range pending {
		if c.rich != nil {
			c.rich.send(out)
			continue
		}
		out.Stream(streamNames[c.stream], string(c.text))
	}
}

// begin directs output to a new cell, delivering what was held since the last one.
func (s *streamer) begin(out cellio.Output) {
	s.emitMu.Lock()
	s.mu.Lock()
	s.out, s.shown, s.held, s.heldRich = out, 0, 0, 0
	droppedRich := s.droppedRich
	s.droppedRich = 0
	s.mu.Unlock()
	s.flushLocked()
	if droppedRich > 0 {
		out.Stream("stderr", fmt.Sprintf("[gocvx: %d more rich outputs published while no cell ran were dropped]\n", droppedRich))
	}
	s.emitMu.Unlock()
}

// end flushes the cell's output, adds the truncation notice if any, and holds
// further output for the next cell.
func (s *streamer) end() {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	s.flushLocked()
	s.mu.Lock()
	out, dropped := s.out, s.dropped
	s.out, s.dropped = nil, 0
	s.mu.Unlock()
	if out != nil && dropped > 0 {
		out.Stream("stderr", truncationNotice(dropped, s.limit))
	}
}

func truncationNotice(dropped, limit int) string {
	return fmt.Sprintf("\n[gocvx: output truncated: %s more were written after the first %s; write large outputs to a file]\n",
		byteSize(dropped), byteSize(limit))
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// setDiscard turns dropping of all output on or off (for replays).
func (s *streamer) setDiscard(on bool) {
	s.mu.Lock()
	s.discard = on
	s.mu.Unlock()
}

// display sends a rich output after the text written before it, or holds it
// for the next cell when no cell runs.
func (s *streamer) display(b cellio.Bundle, id string, update bool) {
	s.rich(&richOutput{bundle: b, id: id, update: update})
}

// clear sends clear_output, or holds it for the next cell when no cell runs.
func (s *streamer) clear(wait bool) {
	s.rich(&richOutput{clear: true, wait: wait})
}

func (s *streamer) rich(r *richOutput) {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	s.flushLocked()
	s.mu.Lock()
	out, discard := s.out, s.discard
	if out == nil && !discard {
		s.hold(r)
	}
	s.mu.Unlock()
	if out != nil && !discard {
		r.send(out)
	}
}

// hold keeps a rich output published while no cell runs for the next cell; an
// update replaces a held update of the same display ID. s.mu is held.
func (s *streamer) hold(r *richOutput) {
	if r.update && r.id != "" {
		for i := len(s.pending) - 1; i >= 0; i-- {
			if p := s.pending[i].rich; p != nil && p.update && p.id == r.id {
				s.pending[i].rich = r
				return
			}
		}
	}
	if s.heldRich >= maxHeldRich {
		s.droppedRich++
		return
	}
	s.heldRich++
	s.pending = append(s.pending, chunk{rich: r})
}

// orderedWriter is how interpreted code writes to one stream of the session
// (fmt.Print*, log, print, os.Stdout and os.Stderr handed to writers): straight
// to the streamer, after what the capture pipes still hold, so that stdout and
// stderr keep the order they were written in, and come after what compiled
// code wrote to the descriptors before.
type orderedWriter struct {
	s      *Session
	stream int
}

func (w orderedWriter) Write(p []byte) (int, error) {
	w.s.syncOutput()
	w.s.streams.write(w.stream, p)
	return len(p), nil
}

// traceWriter receives the interpreter's standard error: the lines yaegi writes
// while a panic unwinds ("Cell3:2:5: panic: gocvxcells.f(...)") are collected
// for the traceback; everything else (println, log) goes on to the stream.
type traceWriter struct {
	mu    sync.Mutex
	lines []traceLine
	ring  *frameRing // the positions frames recorded, kept with each line
	next  func(p []byte) (int, error)
}

func (w *traceWriter) Write(p []byte) (int, error) {
	s := string(p)
	if i := strings.Index(s, ": panic: "); i > 0 && strings.HasSuffix(strings.TrimRight(s, "\n"), "(...)") && !strings.Contains(s[:i], " ") {
		w.mu.Lock()
		// A deep recursion unwinds through many frames: keep the innermost.
		if len(w.lines) < maxTraceLines {
			w.lines = append(w.lines, traceLine{text: strings.TrimRight(s, "\n"), records: w.ring.snapshot()})
		}
		w.mu.Unlock()
		return len(p), nil
	}
	return w.next(p)
}

// take returns and forgets the collected traceback lines.
func (w *traceWriter) take() []traceLine {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.lines
	w.lines = nil
	return l
}

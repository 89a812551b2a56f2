package display

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/internal/cellrt"
	"github.com/gocvx/gocvx/solver"
)

// now is the clock of the throttles; tests replace it.
var now = time.Now

// DefaultInterval is the least time between redraws of live displays: four a second
// looks continuous to a reader and costs a solve at most a few per cent (a live frame
// takes about 10 ms to draw).
const DefaultInterval = 250 * time.Millisecond

// Live is a solver.Recorder that keeps one display in the running cell updated while
// a solve runs: a progress line (iteration, objective, gap, time) above the
// convergence plot, redrawn at most once per Interval. Call Done with the result when
// the solve returns: it replaces the display with the result's summary and final plot
// (SolveLive does all of this in one call). Record is safe for concurrent use.
//
//	live := &display.Live{Label: "ADMM ρ = 1"}
//	res, err := solver.Solve(ctx, prob, &solver.Settings{Recorder: live}, &solver.ADMM{Rho: 1})
//	live.Done(res)
//
// The display is created by the first Record, in the cell that runs then (or, while
// no cell runs, in the next cell; see Show). Outside a notebook Live draws nothing,
// and Done prints the result's text form. After Done, the same Live may record
// another solve into a new display.
type Live struct {
	// Label names the solve in the progress line; empty means "solve".
	Label string
	// Interval is the least time between redraws; zero means DefaultInterval.
	Interval time.Duration

	mu      sync.Mutex
	sink    cellio.Output
	id      string
	history []solver.Iteration
	last    time.Time // time of the last redraw
	frames  int       // redraws published, for tests
}

// Record appends an iteration and redraws the display if Interval has passed since
// the last redraw (the first iteration is always drawn).
func (l *Live) Record(it solver.Iteration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.history = append(l.history, it)
	if l.id == "" {
		l.sink = cellrt.Current()
		if l.sink == nil {
			return
		}
		l.id = newID()
		l.publish(false, cssDPI)
		return
	}
	if l.sink == nil {
		return
	}
	interval := l.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now().Sub(l.last) >= interval {
		l.publish(true, cssDPI)
	}
}

// publish draws the current history (PNG at dpi) into the display.
func (l *Live) publish(update bool, dpi int) {
	l.last = now()
	l.frames++
	publishTo(l.sink, l.frame(dpi), l.id, update)
}

// frame renders the progress line and the convergence plot so far.
func (l *Live) frame(dpi int) Bundle {
	line := progressLine(l.label(), l.history)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<div class="gocvx-live"><div style="font-family:monospace">%s</div>`, htmlEscape(line))
	if fig := historyFigure(l.label(), l.history); fig.Err == nil {
		sb.WriteString(fig.imgTagAt(dpi))
	}
	sb.WriteString(`</div>`)
	return Bundle{
		Data:     map[string]any{MIMEText: line, MIMEHTML: sb.String()},
		Metadata: map[string]any{},
	}
}

func (l *Live) label() string {
	if l.Label == "" {
		return "solve"
	}
	return l.Label
}

// progressLine is the one-line state of a running solve, e.g.
// "ADMM: iteration 120 · objective 12.53 · gap 3.10e-04 · 0.84 s".
func progressLine(label string, h []solver.Iteration) string {
	if len(h) == 0 {
		return label + ": starting"
	}
	it := h[len(h)-1]
	parts := []string{
		fmt.Sprintf("iteration %d", it.Iteration),
		"objective " + formatFloat(it.Objective),
	}
	if !math.IsNaN(it.Gap) {
		parts = append(parts, "gap "+formatGap(it.Gap))
	} else if dg, ok := lastDualityGap(h); ok {
		parts = append(parts, "duality gap "+formatGap(dg))
	}
	if it.Patterns > 0 {
		parts = append(parts, fmt.Sprintf("%d patterns", it.Patterns))
	}
	if !math.IsNaN(it.TrainAccuracy) && it.TrainAccuracy != 0 {
		parts = append(parts, fmt.Sprintf("train accuracy %.1f%%", 100*it.TrainAccuracy))
	}
	parts = append(parts, roundDuration(it.Elapsed).String())
	return label + ": " + strings.Join(parts, " · ")
}

// Render returns the current frame: the progress line and the plot so far.
func (l *Live) Render() Bundle {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.frame(pngDPI)
}

// lastDualityGap returns the latest duality gap computed in h (methods compute it
// every few iterations, NaN in between; all zero means none).
func lastDualityGap(h []solver.Iteration) (float64, bool) {
	for k := len(h) - 1; k >= 0; k-- {
		if g := h[k].DualityGap; !math.IsNaN(g) && g != 0 {
			return g, true
		}
	}
	return 0, false
}

// Done ends the live display: with a result, it becomes the result's rendering (its
// summary and convergence plot, as Render gives); with nil, the last recorded state
// redrawn at full resolution. If nothing was recorded, a result is shown as a new
// display. The Live is then ready to record another solve.
func (l *Live) Done(res *solver.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() { l.sink, l.id, l.history = nil, "", nil }()
	switch {
	case l.id == "" && res != nil:
		Show(res)
	case l.id == "":
	case res != nil:
		l.frames++
		publishTo(l.sink, Render(res), l.id, true)
	default:
		l.publish(true, pngDPI)
	}
}

// SolveLive runs solver.Solve with a Live recorder labelled with the method's name,
// so that the cell shows the solve progressing and then its result in place. A
// Recorder in settings still receives every iteration. A nil ctx means the running
// cell's context (cancelled when the user interrupts the cell).
func SolveLive(ctx context.Context, prob *solver.Problem, settings *solver.Settings, method solver.Method) (*solver.Result, error) {
	if ctx == nil {
		ctx = cellrt.Context()
	}
	var s solver.Settings
	if settings != nil {
		s = *settings
	}
	label := "ADMM"
	if method != nil {
		label = method.String()
	}
	live := &Live{Label: label}
	if s.Recorder != nil {
		user := s.Recorder
		s.Recorder = solver.RecorderFunc(func(it solver.Iteration) {
			live.Record(it)
			user.Record(it)
		})
	} else {
		s.Recorder = live
	}
	res, err := solver.Solve(ctx, prob, &s, method)
	live.Done(res)
	return res, err
}

// Progress is a progress bar for any long loop in a cell, kept up to date in place:
//
//	bar := display.NewProgress("attacks", len(eps))
//	for i := range eps { …; bar.Add(1) }
//	bar.Done()
//
// It redraws at most once per Interval, and always when the count reaches Total, so
// the finished bar is left in the notebook even without Done. Add and Set are safe
// for concurrent use. Outside a notebook it draws nothing and Done prints the final
// line.
type Progress struct {
	// Label is shown before the bar.
	Label string
	// Total is the count at completion; zero or less draws a counter without a bar.
	Total int
	// Interval is the least time between redraws; zero means DefaultInterval.
	Interval time.Duration

	mu     sync.Mutex
	count  int
	start  time.Time
	last   time.Time
	sink   cellio.Output
	id     string
	ended  bool
	frames int
}

// NewProgress returns a progress bar at zero and shows it in the running cell.
func NewProgress(label string, total int) *Progress {
	p := &Progress{Label: label, Total: total}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.begin()
	return p
}

// begin records the start time and shows the bar; p.mu is held.
func (p *Progress) begin() {
	if !p.start.IsZero() {
		return
	}
	p.start = now()
	p.sink = cellrt.Current()
	if p.sink != nil {
		p.id = newID()
		p.frames++
		p.last = now()
		publishTo(p.sink, p.bundle(), p.id, false)
	}
}

// Add advances the count by n.
func (p *Progress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set(p.count + n)
}

// Set sets the count to done.
func (p *Progress) Set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set(done)
}

func (p *Progress) set(done int) {
	p.begin()
	p.count = done
	if p.sink == nil || p.ended {
		return
	}
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	complete := p.Total > 0 && p.count >= p.Total
	if complete || now().Sub(p.last) >= interval {
		p.redraw()
	}
}

func (p *Progress) redraw() {
	p.last = now()
	p.frames++
	publishTo(p.sink, p.bundle(), p.id, true)
}

// Done draws the final state (with the total time taken); later calls to Add and Set
// change the count but no longer redraw.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.begin()
	if p.ended {
		return
	}
	p.ended = true
	if p.sink == nil {
		publishTo(nil, p.bundle(), "", false)
		return
	}
	p.frames++
	publishTo(p.sink, p.bundle(), p.id, true)
}

// Render returns the bar's current state as HTML (a <progress> element) and text.
func (p *Progress) Render() Bundle {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bundle()
}

// barWidth is the number of characters of the text bar.
const barWidth = 30

func (p *Progress) bundle() Bundle {
	elapsed := time.Duration(0)
	if !p.start.IsZero() {
		elapsed = now().Sub(p.start)
	}
	var text, status string
	frac := 0.0
	if p.Total > 0 {
		frac = math.Max(0, math.Min(1, float64(p.count)/float64(p.Total)))
		status = fmt.Sprintf("%3.0f%% %d/%d · %s", 100*frac, p.count, p.Total, roundTenths(elapsed))
		if p.ended {
			status += " (done)"
		} else if p.count > 0 && frac < 1 {
			left := time.Duration(float64(elapsed) * (1 - frac) / frac)
			status += fmt.Sprintf(", about %s left", roundTenths(left))
		}
		filled := int(math.Round(frac * barWidth))
		text = fmt.Sprintf("%s [%s%s] %s", p.Label, strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), status)
	} else {
		status = fmt.Sprintf("%d · %s", p.count, roundTenths(elapsed))
		if p.ended {
			status += " (done)"
		}
		text = p.Label + " " + status
	}
	text = strings.TrimSpace(text)
	var sb strings.Builder
	sb.WriteString(`<div class="gocvx-progress" style="font-family:monospace">`)
	if p.Label != "" {
		fmt.Fprintf(&sb, `%s `, htmlEscape(p.Label))
	}
	if p.Total > 0 {
		fmt.Fprintf(&sb, `<progress value="%d" max="%d" style="width:40%%;vertical-align:middle"></progress> `, min(max(p.count, 0), p.Total), p.Total)
	}
	sb.WriteString(htmlEscape(strings.TrimSpace(status)))
	sb.WriteString(`</div>`)
	return Bundle{
		Data:     map[string]any{MIMEText: text, MIMEHTML: sb.String()},
		Metadata: map[string]any{},
	}
}

// roundTenths rounds a progress bar's times to a tenth of a second (a second from a
// minute on): finer digits would flicker.
func roundTenths(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

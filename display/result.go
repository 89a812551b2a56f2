package display

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gocvx/gocvx/solver"
)

// ConvergencePlot draws one solve's progress against the iteration, on a log axis
// when it can: the relative gap to the reference objective when the history has one,
// else the certified duality gap when the method computes one, else the training
// objective on a linear axis.
func ConvergencePlot(res *solver.Result) *Figure {
	if res == nil {
		return errFigure("ConvergencePlot: nil result")
	}
	return historyFigure(res.Method, res.History)
}

// historyFigure is ConvergencePlot of a bare history (the live recorder draws from
// the iterations it has seen so far).
func historyFigure(label string, h []solver.Iteration) *Figure {
	if len(h) == 0 {
		return errFigure("ConvergencePlot: the history is empty")
	}
	runs := []Run{{Label: label, History: h}}
	for _, it := range h {
		if !math.IsNaN(it.Gap) && !math.IsInf(it.Gap, 0) {
			return GapPlot(runs, ByIteration)
		}
	}
	if fig := DualityGapPlot(runs, ByIteration); fig.Err == nil {
		return fig
	}
	return ObjectivePlot(runs, ByIteration)
}

// resultHeadline is the first line of a result's text form.
func resultHeadline(r *solver.Result) string {
	method := r.Method
	if r.Factorization != "" {
		method += " (" + r.Factorization + ")"
	}
	return fmt.Sprintf("%s: %v after %d iterations in %v", method, r.Status, r.Iterations, roundDuration(r.Runtime))
}

// resultFields returns the summary rows of a result, in display order.
func resultFields(r *solver.Result) [][2]string {
	rows := [][2]string{
		{"method", r.Method},
	}
	if r.Factorization != "" {
		rows = append(rows, [2]string{"factorization", r.Factorization})
	}
	rows = append(rows,
		[2]string{"status", r.Status.String()},
	)
	if r.Message != "" {
		rows = append(rows, [2]string{"reason", r.Message})
	}
	rows = append(rows,
		[2]string{"objective", formatFloat(r.Objective)},
		[2]string{"gap", formatGap(r.Gap)},
		[2]string{"iterations", fmt.Sprint(r.Iterations)},
		[2]string{"time", roundDuration(r.Runtime).String()},
	)
	if r.Certificate != nil && !math.IsInf(r.Certificate.Dual, 0) && !math.IsNaN(r.Certificate.Dual) {
		rows = append(rows, [2]string{"dual bound", formatFloat(r.Certificate.Dual)})
	}
	if r.Patterns > 0 {
		rows = append(rows, [2]string{"patterns", fmt.Sprint(r.Patterns)})
	}
	if r.Rho > 0 {
		rho := fmt.Sprintf("%.3g", r.Rho)
		if r.Factorizations > 0 {
			rho += fmt.Sprintf(" (%d factorizations)", r.Factorizations)
		}
		rows = append(rows, [2]string{"penalty ρ", rho})
	}
	neurons := fmt.Sprint(r.ActiveNeurons)
	if r.Network != nil && r.Network.Neurons() > 0 {
		neurons = fmt.Sprintf("%d of %d", r.ActiveNeurons, r.Network.Neurons())
	}
	rows = append(rows, [2]string{"active neurons", neurons})
	return rows
}

// formatFloat shows objectives to 8 significant digits, enough to compare them with
// an optimum at the gaps first-order methods reach.
func formatFloat(v float64) string { return fmt.Sprintf("%.8g", v) }

func formatGap(g float64) string {
	if math.IsNaN(g) {
		return "n/a"
	}
	return fmt.Sprintf("%.2e", g)
}

// roundDuration keeps three significant digits or so, for summaries.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}

// resultText is the text/plain form of a result: a headline and aligned fields.
func resultText(r *solver.Result) string {
	var sb strings.Builder
	sb.WriteString(resultHeadline(r))
	for _, f := range resultFields(r)[1:] {
		fmt.Fprintf(&sb, "\n  %-15s %s", f[0], f[1])
	}
	return sb.String()
}

// resultHTML is the HTML summary table of a result followed by fig (if any).
func resultHTML(r *solver.Result, fig *Figure) string {
	var sb strings.Builder
	sb.WriteString(`<div class="gocvx-result">`)
	sb.WriteString(`<table style="border-collapse:collapse;margin-bottom:6px">`)
	fmt.Fprintf(&sb, `<caption style="text-align:left;font-weight:bold">%s</caption>`, htmlEscape(resultHeadline(r)))
	for _, f := range resultFields(r) {
		fmt.Fprintf(&sb, `<tr><th style="text-align:left;padding:1px 12px 1px 0">%s</th><td style="text-align:left">%s</td></tr>`,
			htmlEscape(f[0]), htmlEscape(f[1]))
	}
	sb.WriteString(`</table>`)
	if fig != nil && fig.Err == nil {
		sb.WriteString(fig.imgTag())
	}
	sb.WriteString(`</div>`)
	return sb.String()
}

func renderResult(r *solver.Result) Bundle {
	var fig *Figure
	if len(r.History) > 0 {
		fig = ConvergencePlot(r)
	}
	return Bundle{
		Data: map[string]any{
			MIMEText: resultText(r),
			MIMEHTML: resultHTML(r, fig),
		},
		Metadata: map[string]any{},
	}
}

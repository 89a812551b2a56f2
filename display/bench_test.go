package display

import (
	"testing"
	"time"
)

// BenchmarkRender measures what a cell pays to see a result: Render of a result with
// a 1 000-iteration history (text, HTML summary and the convergence plot as a PNG at
// 1.5 times CSS resolution), and its parts. Goal: under 50 ms for the whole.
func BenchmarkRender(b *testing.B) {
	h := synthHistory(1000, 0.99, time.Millisecond, 0)
	res := goldenResult(h)
	runs := []Run{{Label: "ADMM", History: h}}
	b.Run("result/history=1000", func(b *testing.B) {
		for b.Loop() {
			Render(res)
		}
	})
	b.Run("gap-svg/history=1000", func(b *testing.B) {
		for b.Loop() {
			_ = GapPlot(runs, ByIteration).SVG()
		}
	})
	b.Run("gap-png/history=1000", func(b *testing.B) {
		for b.Loop() {
			_ = GapPlot(runs, ByIteration).PNG()
		}
	})
	b.Run("live-frame/history=1000", func(b *testing.B) {
		l := &Live{Label: "ADMM", history: h}
		for b.Loop() {
			l.frame(cssDPI)
		}
	})
	b.Run("figure-render/history=1000", func(b *testing.B) {
		for b.Loop() {
			Render(GapPlot(runs, ByIteration))
		}
	})
}

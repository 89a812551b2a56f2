package display

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gocvx/gocvx/internal/cellrt"
)

// fakeSink records what a cell publishes, as the cell engine's sink would send it.
type fakeSink struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	kind     string // "display", "update", "clear", "stdout" or "stderr"
	data     map[string]any
	metadata map[string]any
	id       string
	wait     bool
}

func (s *fakeSink) Display(b Bundle, id string, update bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := "display"
	if update {
		kind = "update"
	}
	s.events = append(s.events, event{kind: kind, data: b.Data, metadata: b.Metadata, id: id})
}

func (s *fakeSink) Stream(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, event{kind: name, data: map[string]any{MIMEText: text}})
}

func (s *fakeSink) Clear(wait bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, event{kind: "clear", wait: wait})
}

func (s *fakeSink) all() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

// enterCell runs the rest of the test as if inside a cell whose outputs go to a
// fresh fake sink.
func enterCell(t *testing.T) *fakeSink {
	t.Helper()
	s := &fakeSink{}
	leave := cellrt.Enter(context.Background(), s)
	t.Cleanup(leave)
	return s
}

func TestPublish(t *testing.T) {
	s := enterCell(t)
	Show(42)
	HTML("<b>hi</b>")
	Markdown("*hi*")
	id := ShowID("first")
	Update(id, "second")
	Clear(true)
	Update("", "ignored")

	ev := s.all()
	want := []struct{ kind, mime, payload, id string }{
		{"display", MIMEText, "42", ""},
		{"display", MIMEHTML, "<b>hi</b>", ""},
		{"display", MIMEMarkdown, "*hi*", ""},
		{"display", MIMEText, "first", id},
		{"update", MIMEText, "second", id},
		{"clear", "", "", ""},
	}
	if len(ev) != len(want) {
		t.Fatalf("published %d events, want %d: %+v", len(ev), len(want), ev)
	}
	for i, w := range want {
		e := ev[i]
		if e.kind != w.kind || e.id != w.id {
			t.Errorf("event %d = %s id %q, want %s id %q", i, e.kind, e.id, w.kind, w.id)
		}
		if w.mime != "" && e.data[w.mime] != w.payload {
			t.Errorf("event %d %s = %v, want %q", i, w.mime, e.data[w.mime], w.payload)
		}
		if w.kind != "clear" {
			if _, ok := e.data[MIMEText]; !ok {
				t.Errorf("event %d has no text/plain", i)
			}
			if e.metadata == nil {
				t.Errorf("event %d has nil metadata", i)
			}
		}
	}
	if !ev[5].wait {
		t.Error("Clear(true) lost wait")
	}
	if !strings.HasPrefix(id, "gocvx-") {
		t.Errorf("display ID %q lacks the gocvx- prefix", id)
	}
}

func TestShowIDUnique(t *testing.T) {
	enterCell(t)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := ShowID(i)
		if seen[id] {
			t.Fatalf("display ID %q repeated", id)
		}
		seen[id] = true
	}
}

func ExampleShow() {
	// Outside a notebook cell, Show prints the plain-text form.
	Show(struct{ Loss, Beta any }{"squared", 1e-3})
	Show(AsHTML("<b>gap</b> &lt; 10<sup>-6</sup>"))
	// Output:
	// {Loss:squared Beta:0.001}
	// gap < 10-6
}

func ExampleRender() {
	b := Render(AsMarkdown("**optimal** after 12 iterations"))
	fmt.Println(b.Data["text/markdown"])
	fmt.Println(b.Data["text/plain"])
	// Output:
	// **optimal** after 12 iterations
	// **optimal** after 12 iterations
}

package interp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/interp/magic"
)

// A cell may hold IPython-style magics (package magic): Execute runs such a
// cell part by part, its Go parts as cells of their own with the cell's number
// and positions, its magics in between, and stops at the first failure.

// magicCell parses the magics of a cell; ok is false for a cell of plain Go.
func magicCell(code string) (c magic.Cell, ok bool, err error) {
	if !strings.ContainsAny(code, "%!") {
		return magic.Cell{}, false, nil
	}
	c, err = magic.Parse(code)
	if err != nil {
		return magic.Cell{}, true, err
	}
	return c, c.Magic, nil
}

// goPart returns the Go source of code with its magics blanked rune for rune
// (positions, lines and code-point offsets unchanged), for completion,
// inspection and is_complete; code itself when it has none or does not parse.
func goPart(code string) string {
	if c, ok, err := magicCell(code); ok && err == nil {
		return c.Go
	}
	return code
}

// executeMagics runs a cell that holds magics. The value of the cell is that
// of its last part when it is Go.
func (s *Session) executeMagics(ctx context.Context, c cellio.Cell, mc magic.Cell) cellio.Outcome {
	wall0 := time.Now()
	user0, sys0 := magic.CPUTime()
	var out cellio.Outcome
	for _, p := range mc.Parts {
		out = cellio.Outcome{}
		switch p.Kind {
		case magic.Go:
			out = s.executeGo(ctx, cellio.Cell{Code: p.Go, Number: c.Number, Output: c.Output, Input: c.Input})
		case magic.Time:
			w := time.Now()
			u, sy := magic.CPUTime()
			out = s.executeGo(ctx, cellio.Cell{Code: p.Go, Number: c.Number, Output: c.Output, Input: c.Input})
			u1, sy1 := magic.CPUTime()
			s.syncOutput()
			fmt.Fprint(s.stdout, magic.FormatTime(time.Since(w), u1-u, sy1-sy))
		case magic.Env:
			text, err := magic.Environment(p.Args)
			out.Error = magicError(p, err)
			fmt.Fprint(s.stdout, text)
		case magic.Shell:
			out.Error = s.shell(ctx, c, p)
		case magic.Who, magic.Whos:
			fmt.Fprint(s.stdout, s.who(ctx, p.Kind == magic.Whos))
		case magic.Reset:
			out.Error = magicError(p, s.reset())
		case magic.GoCmd:
			rebuild, err := s.modules.command(ctx, p.Args, s.stdout)
			if rebuild {
				s.dirty = true // the next cell gets a fresh interpreter
			}
			out.Error = magicError(p, err)
		case magic.Help:
			b := textBundle(generalHelp + "\nMagics:\n" + magic.List)
			out.Page = &b
		}
		if out.Error != nil {
			break
		}
	}
	if mc.Timed {
		u1, sy1 := magic.CPUTime()
		s.syncOutput()
		fmt.Fprint(s.stdout, magic.FormatTime(time.Since(wall0), u1-user0, sy1-sys0))
	}
	if n := len(mc.Parts); n > 0 && mc.Parts[n-1].Kind != magic.Go && mc.Parts[n-1].Kind != magic.Time {
		out.Value = nil
	}
	return out
}

// magicError is the cell's error for a failed magic.
func magicError(p magic.Part, err error) *cellio.Error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if errors.Is(err, magic.ErrInterrupted) || strings.HasSuffix(msg, ": interrupted") {
		return &cellio.Error{Name: "Interrupted", Value: msg, Traceback: []string{"Interrupted: " + msg}}
	}
	msg = fmt.Sprintf("line %d: %s", p.Line, msg)
	return &cellio.Error{Name: "MagicError", Value: msg, Traceback: strings.Split("MagicError: "+msg, "\n")}
}

// shell runs !COMMAND or a %%sh cell in the working directory (the
// notebook's folder), its output streamed to the cell; lines it reads come
// from the front end. A non-zero exit status is shown, as a note, not an
// error (as in IPython); an interrupt stops the command and the cell.
func (s *Session) shell(ctx context.Context, c cellio.Cell, p magic.Part) *cellio.Error {
	s.syncOutput()
	cmd := &magic.ShellCommand{Script: p.Args, Stdout: s.stdout, Stderr: s.stderr}
	if c.Input != nil {
		cmd.Input = func() (string, error) { return c.Input.ReadLine("", false) }
	}
	err := cmd.Run(ctx)
	var ee *magic.ExitError
	if errors.As(err, &ee) {
		fmt.Fprintf(s.stderr, "[%s]\n", ee)
		return nil
	}
	if errors.Is(err, magic.ErrInterrupted) {
		return &cellio.Error{Name: "Interrupted", Value: "the command was interrupted", Traceback: []string{"Interrupted: the command was interrupted"}}
	}
	return magicError(p, err)
}

// whoValueWidth bounds the text of a value %whos renders.
const whoValueWidth = 200

// who lists the notebook's variables (%who), with their types and values
// (%whos): each value as the cell would show it, cut short.
func (s *Session) who(ctx context.Context, values bool) string {
	s.mu.RLock()
	vars := s.prog.sortedVars()
	s.mu.RUnlock()
	list := make([]magic.Var, 0, len(vars))
	for _, v := range vars {
		mv := magic.Var{Name: v.name, Type: v.typeText}
		if values {
			o := s.executeGo(ctx, cellio.Cell{Code: v.name, Transient: true, Output: discardOutput{}})
			if o.Error == nil && o.Value != nil {
				if t, ok := o.Value.Data["text/plain"].(string); ok {
					if utf8.RuneCountInString(t) > whoValueWidth {
						t = string([]rune(t)[:whoValueWidth])
					}
					mv.Value = t
				}
			}
		}
		list = append(list, mv)
	}
	if values {
		return magic.FormatWhos(list)
	}
	return magic.FormatWho(list)
}

// reset forgets every declaration, variable and import of the notebook in a
// fresh interpreter; goroutines that cells started stop. The packages
// resolved from the notebook's modules stay resolved.
func (s *Session) reset() error {
	if err := s.newInterpreter(); err != nil {
		return err
	}
	s.mu.Lock()
	s.prog = newProgram()
	s.mu.Unlock()
	return nil
}

// helpPage is the page of %help: the general help and the magics.
func helpPage() string {
	return generalHelp + "\nMagics (at the start of a line, as in IPython):\n" + magic.List
}

// magicNames are what completion offers after % at the start of a line.
var magicNames = []string{"%%sh", "%%time", "%env", "%go get ", "%go mod", "%go work use ", "%help", "%reset", "%time ", "%who", "%whos"}

// magicCompletion completes the name of a magic when the cursor (in code
// points) is in the first word of a line that starts with %.
func magicCompletion(code string, cursor int) (cellio.Completion, bool) {
	runes := []rune(code)
	if cursor > len(runes) {
		return cellio.Completion{}, false
	}
	start := cursor
	for start > 0 && runes[start-1] != '\n' {
		start--
	}
	line := string(runes[start:cursor])
	trimmed := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(trimmed, "%") || strings.ContainsAny(trimmed, " \t") && !strings.HasPrefix(trimmed, "%go ") {
		return cellio.Completion{}, false
	}
	var matches []string
	for _, n := range magicNames {
		if strings.HasPrefix(n, trimmed) {
			matches = append(matches, n)
		}
	}
	first := start + utf8.RuneCountInString(line) - utf8.RuneCountInString(trimmed)
	return cellio.Completion{Matches: matches, Start: first, End: cursor, Metadata: map[string]any{}}, true
}

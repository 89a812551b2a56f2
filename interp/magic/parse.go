// Package magic parses and runs the magics of notebook cells: the IPython-style
// commands a cell may hold besides Go (%time, %env, !command, %%sh, %who, %go
// get…). Parse splits a cell into its Go source and its magics before the
// cell reaches Go, keeping the cell's line numbers and columns in the Go part;
// the shell commands run with Shell.
package magic

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a part of a cell.
type Kind int

const (
	Go    Kind = iota // Go source
	Time              // %time STATEMENT: the statement, timed
	Env               // %env [NAME[=VALUE]]
	Shell             // !command, or a %%sh cell: a shell script
	Who               // %who: the names of the notebook's variables
	Whos              // %whos: the notebook's variables with types and values
	Reset             // %reset: a fresh interpreter
	GoCmd             // %go get|mod|work …
	Help              // %help
)

// Part is one step of a cell: Go source or a magic, in the order they run.
type Part struct {
	Kind Kind
	// Line is the line of the cell where the part starts, from 1.
	Line int
	// Args is the text after the magic's name, trimmed: the command of !,
	// the script of %%sh, the arguments of %env and %go.
	Args string
	// Go is the Go source the part runs (Go and Time): the whole cell with
	// every line outside the part empty, so that positions in it are the
	// cell's ("Cell3:4:2").
	Go string
}

// Cell is a parsed cell.
type Cell struct {
	// Parts are the cell's steps in order; a cell without magics has one Go
	// part (none when it is blank).
	Parts []Part
	// Timed is set by %%time: the whole cell is timed.
	Timed bool
	// Go is the cell's Go source with every magic blanked rune for rune (the
	// statement of %time kept): offsets in code points, lines and columns are
	// those of the cell. Completion, inspection and is_complete use it.
	Go string
	// Magic reports whether the cell holds any magic.
	Magic bool
}

// names maps the line magics to their kinds.
var names = map[string]Kind{
	"time": Time, "env": Env, "who": Who, "whos": Whos, "reset": Reset, "go": GoCmd, "help": Help,
	"sh": Shell, // %sh COMMAND, as !COMMAND
}

// Parse splits a cell into Go and magics. A line is a magic when it starts
// (after blanks) with % or ! where a Go statement could start: at the cell's
// top level, not inside brackets, a string or a comment, and not where the
// previous line continues (`a &&` then `!b` is Go). %%time and %%sh must be
// the first line of the cell. An unknown magic is an error.
func Parse(code string) (Cell, error) {
	lines := strings.SplitAfter(code, "\n")
	var c Cell
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	if first < len(lines) {
		if l := strings.TrimSpace(lines[first]); strings.HasPrefix(l, "%%") {
			name, args := splitName(l[2:])
			c.Magic = true
			switch name {
			case "time":
				if args != "" {
					return Cell{}, fmt.Errorf("line %d: %%%%time takes no arguments: the rest of the cell is what it times", first+1)
				}
				c.Timed = true
				lines[first] = blank(lines[first])
			case "sh", "bash":
				script := strings.Join(lines[first+1:], "")
				c.Parts = []Part{{Kind: Shell, Line: first + 1, Args: script}}
				c.Go = blankAll(code)
				return c, nil
			default:
				return Cell{}, fmt.Errorf("line %d: unknown cell magic %%%%%s; %%help lists the magics", first+1, name)
			}
		}
	}
	goLines := make([]string, len(lines)) // the Go part, for c.Go
	var seg []int                         // lines of the Go segment being gathered
	flush := func() {
		if len(seg) > 0 {
			text := keepLines(lines, seg)
			if strings.TrimSpace(text) != "" && !onlyComments(text) {
				c.Parts = append(c.Parts, Part{Kind: Go, Line: seg[0] + 1, Go: text})
			}
			seg = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if c.Timed && i == first {
			goLines[i] = l // %%time, blanked
			continue
		}
		t := strings.TrimLeft(l, " \t")
		if (strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!")) && !strings.HasPrefix(t, "%%") && atStatement(strings.Join(goLines[:i], "")) {
			flush()
			c.Magic = true
			p, end, err := parseLine(lines, i)
			if err != nil {
				return Cell{}, err
			}
			c.Parts = append(c.Parts, p)
			for j := i; j <= end; j++ {
				goLines[j] = blank(lines[j])
			}
			if p.Kind == Time {
				// The statement stays Go: blank only "%time".
				pre := len(l) - len(t) + len("%time")
				goLines[i] = blank(l[:pre]) + l[pre:]
				copy(goLines[i+1:end+1], lines[i+1:end+1])
			}
			i = end
			continue
		}
		if strings.HasPrefix(t, "%%") && i != first {
			return Cell{}, fmt.Errorf("line %d: a cell magic (%s) must be the first line of the cell", i+1, strings.Fields(t)[0])
		}
		goLines[i] = l
		seg = append(seg, i)
	}
	flush()
	c.Go = strings.Join(goLines, "")
	return c, nil
}

// parseLine parses the magic on line i; end is its last line (a %time
// statement may go on over several lines).
func parseLine(lines []string, i int) (Part, int, error) {
	t := strings.TrimSpace(lines[i])
	if strings.HasPrefix(t, "!") {
		return Part{Kind: Shell, Line: i + 1, Args: strings.TrimSpace(t[1:])}, i, nil
	}
	name, args := splitName(t[1:])
	kind, ok := names[name]
	if !ok {
		return Part{}, 0, fmt.Errorf("line %d: unknown magic %%%s; %%help lists the magics", i+1, name)
	}
	p := Part{Kind: kind, Line: i + 1, Args: args}
	end := i
	switch kind {
	case Time:
		if args == "" {
			return Part{}, 0, fmt.Errorf("line %d: %%time needs a statement (%%time x := f()), or use %%%%time on the first line to time the cell", i+1)
		}
		// The statement goes on until Go could start a new one.
		stmt := len(lines[i]) - len(strings.TrimLeft(lines[i], " \t")) + len("%time")
		for end+1 < len(lines) && !atStatement(lines[i][stmt:]+strings.Join(lines[i+1:end+1], "")) {
			end++
		}
		var b strings.Builder
		b.WriteString(strings.Repeat("\n", i))
		b.WriteString(blank(lines[i][:stmt]) + lines[i][stmt:])
		b.WriteString(strings.Join(lines[i+1:end+1], ""))
		b.WriteString(strings.Repeat("\n", strings.Count(strings.Join(lines[end+1:], ""), "\n")))
		p.Go = b.String()
	case Shell:
		if args == "" {
			return Part{}, 0, fmt.Errorf("line %d: %%sh needs a command", i+1)
		}
	case Who, Whos, Help:
		if args != "" {
			return Part{}, 0, fmt.Errorf("line %d: %%%s takes no arguments", i+1, name)
		}
	case Reset:
		if args != "" && args != "-f" {
			return Part{}, 0, fmt.Errorf("line %d: %%reset takes no arguments (or -f)", i+1)
		}
	}
	return p, end, nil
}

// splitName splits "name args" after the % sign.
func splitName(s string) (string, string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// keepLines returns the cell with only the lines in keep (sorted indexes)
// kept, the others empty.
func keepLines(lines []string, keep []int) string {
	var b strings.Builder
	k := 0
	for i, l := range lines {
		if k < len(keep) && keep[k] == i {
			b.WriteString(l)
			k++
		} else if strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// blank replaces every rune of a line but its newline by a space.
func blank(l string) string {
	n := utf8.RuneCountInString(strings.TrimSuffix(l, "\n"))
	s := strings.Repeat(" ", n)
	if strings.HasSuffix(l, "\n") {
		s += "\n"
	}
	return s
}

func blankAll(code string) string {
	lines := strings.SplitAfter(code, "\n")
	for i, l := range lines {
		lines[i] = blank(l)
	}
	return strings.Join(lines, "")
}

// onlyComments reports whether Go source holds nothing but comments.
func onlyComments(src string) bool {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	for {
		_, tok, lit := s.Scan()
		switch {
		case tok == token.EOF:
			return true
		case tok == token.SEMICOLON && lit == "\n":
		default:
			return false
		}
	}
}

// atStatement reports whether a Go statement could start after src: src
// scans without error, closes every bracket it opens, and does not end in
// the middle of an expression (its last token ends a statement).
func atStatement(src string) bool {
	var s scanner.Scanner
	fset := token.NewFileSet()
	bad := false
	s.Init(fset.AddFile("", -1, len(src)), []byte(src), func(token.Position, string) { bad = true }, 0)
	depth := 0
	last := token.SEMICOLON
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		if tok == token.SEMICOLON && lit == "\n" {
			last = token.SEMICOLON // an automatic semicolon: the statement ended
			continue
		}
		last = tok
	}
	if bad || depth != 0 {
		return false
	}
	switch last {
	case token.SEMICOLON, token.IDENT, token.INT, token.FLOAT, token.IMAG, token.CHAR, token.STRING,
		token.BREAK, token.CONTINUE, token.FALLTHROUGH, token.RETURN, token.INC, token.DEC,
		token.RPAREN, token.RBRACK, token.RBRACE:
		return true
	}
	return false
}

// List is the help text of the magics, for %help.
var List = func() string {
	rows := [][2]string{
		{"%time STATEMENT", "run the statement and print its wall and CPU time"},
		{"%%time", "(first line) print the wall and CPU time of the whole cell"},
		{"%env", "list the environment; %env NAME shows one variable, %env NAME=VALUE sets it"},
		{"!COMMAND", "run a shell command in the notebook's folder (also %sh COMMAND)"},
		{"%%sh", "(first line) run the rest of the cell as a shell script"},
		{"%who, %whos", "the notebook's variables; %whos with their types and values"},
		{"%reset", "forget every declaration and variable: a fresh interpreter"},
		{"%go get MODULE[@VERSION]", "require, pin or upgrade a module for this notebook"},
		{"%go mod", "show the notebook's go.mod and its folder"},
		{"%go mod use [DIR]", "use DIR as the notebook's module folder (no DIR: the default)"},
		{"%go work use DIR", "import the packages of the local module in DIR; edits are picked up"},
		{"%go work drop DIR", "stop using the local module in DIR"},
		{"%help", "this page"},
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-26s %s\n", r[0], r[1])
	}
	return b.String()
}()

package magic

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	type part struct {
		kind Kind
		line int
		args string
		goes string // the part's Go with its empty lines shown as |
	}
	for _, c := range []struct {
		name  string
		code  string
		parts []part
		timed bool
		goSrc string // Cell.Go
	}{
		{"plain Go", "x := 1\nfmt.Println(x)", []part{{Go, 1, "", "x := 1\nfmt.Println(x)"}}, false, "x := 1\nfmt.Println(x)"},
		{"blank", "\n  \n", nil, false, "\n  \n"},
		{"shell between Go", "x := 1\n!ls -l\ny := 2\n", []part{{Go, 1, "", "x := 1\n|\n|\n"}, {Shell, 2, "ls -l", ""}, {Go, 3, "", "|\n|\ny := 2\n"}}, false, "x := 1\n      \ny := 2\n"},
		{"time keeps columns", "a := 2\n  %time b := f(a)\nb", []part{{Go, 1, "", "a := 2\n|\n"}, {Time, 2, "b := f(a)", "|\n        b := f(a)\n"}, {Go, 3, "", "|\n|\nb"}}, false, "a := 2\n        b := f(a)\nb"},
		{"time over lines", "%time r := g(1,\n\t2)\nr", []part{{Time, 1, "r := g(1,", "      r := g(1,\n\t2)\n"}, {Go, 3, "", "|\n|\nr"}}, false, "      r := g(1,\n\t2)\nr"},
		{"cell time", "%%time\nx := 1\n!echo hi\n", []part{{Go, 2, "", "|\nx := 1\n|\n"}, {Shell, 3, "echo hi", ""}}, true, "      \nx := 1\n        \n"},
		{"sh cell", "%%sh\necho a\nread x\n", []part{{Shell, 1, "echo a\nread x\n", ""}}, false, "    \n      \n      \n"},
		{"continuation is Go", "ok := a &&\n\t!b\nok", []part{{Go, 1, "", "ok := a &&\n\t!b\nok"}}, false, "ok := a &&\n\t!b\nok"},
		{"inside a block is Go", "if x {\n!y()\n}", []part{{Go, 1, "", "if x {\n!y()\n}"}}, false, "if x {\n!y()\n}"},
		{"inside a raw string is Go", "s := `\n%env\n`", []part{{Go, 1, "", "s := `\n%env\n`"}}, false, "s := `\n%env\n`"},
		{"inside a comment is Go", "/*\n!ls\n*/\nx := 1", []part{{Go, 1, "", "/*\n!ls\n*/\nx := 1"}}, false, "/*\n!ls\n*/\nx := 1"},
		{"magics", "%env GOPROXY=off\n%who\n%whos\n%reset -f\n%go get example.com/m@v1.2.3\n%help", []part{
			{Env, 1, "GOPROXY=off", ""}, {Who, 2, "", ""}, {Whos, 3, "", ""}, {Reset, 4, "-f", ""}, {GoCmd, 5, "get example.com/m@v1.2.3", ""}, {Help, 6, "", ""},
		}, false, strings.Repeat(" ", 16) + "\n    \n     \n         \n" + strings.Repeat(" ", 28) + "\n     "},
		{"unicode blanked per rune", "!echo é\nx", []part{{Shell, 1, "echo é", ""}, {Go, 2, "", "|\nx"}}, false, "       \nx"},
		{"comment-only Go dropped", "// a note\n!date", []part{{Shell, 2, "date", ""}}, false, "// a note\n     "},
	} {
		cell, err := Parse(c.code)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cell.Timed != c.timed || cell.Go != c.goSrc {
			t.Errorf("%s: Timed %v, Go %q; want %v, %q", c.name, cell.Timed, cell.Go, c.timed, c.goSrc)
		}
		if utf8.RuneCountInString(cell.Go) != utf8.RuneCountInString(c.code) || strings.Count(cell.Go, "\n") != strings.Count(c.code, "\n") {
			t.Errorf("%s: Cell.Go does not keep the cell's code points and lines", c.name)
		}
		if len(cell.Parts) != len(c.parts) {
			t.Errorf("%s: %d parts %+v, want %d", c.name, len(cell.Parts), cell.Parts, len(c.parts))
			continue
		}
		for i, p := range cell.Parts {
			w := c.parts[i]
			goes := strings.ReplaceAll(strings.ReplaceAll(p.Go, "\n\n", "\n|\n"), "\n\n", "\n|\n")
			if strings.HasPrefix(goes, "\n") {
				goes = "|" + goes
			}
			if p.Kind != w.kind || p.Line != w.line || (p.Args != w.args && !(w.kind == Time && strings.HasPrefix(p.Args, w.args))) || goes != w.goes {
				t.Errorf("%s: part %d = {%v %d %q %q}, want {%v %d %q %q}", c.name, i, p.Kind, p.Line, p.Args, goes, w.kind, w.line, w.args, w.goes)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"%foo", "line 1: unknown magic %foo; %help lists the magics"},
		{"%%foo\nx", "line 1: unknown cell magic %%foo"},
		{"x := 1\n%%time", "line 2: a cell magic (%%time) must be the first line of the cell"},
		{"%time", "line 1: %time needs a statement"},
		{"%who x", "line 1: %who takes no arguments"},
		{"%%time now", "line 1: %%time takes no arguments"},
		{"%reset all", "line 1: %reset takes no arguments (or -f)"},
	} {
		_, err := Parse(c.code)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %s…", c.code, err, c.want)
		}
	}
}

func TestHelpListsEveryMagic(t *testing.T) {
	for name := range names {
		if !strings.Contains(List, "%"+name) {
			t.Errorf("%%help does not list %%%s", name)
		}
	}
	for _, m := range []string{"%%time", "%%sh", "!COMMAND"} {
		if !strings.Contains(List, m) {
			t.Errorf("%%help does not list %s", m)
		}
	}
}

package magic

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestEnvironment(t *testing.T) {
	t.Setenv("GOCVX_TEST_A", "1")
	t.Setenv("GOCVX_TEST_API_TOKEN", "s3cret")
	for _, c := range []struct{ args, out, env string }{
		{"GOCVX_TEST_A", "1\n", "1"},
		{"GOCVX_TEST_A=two words", "env: GOCVX_TEST_A=two words\n", "two words"},
		{"GOCVX_TEST_A 3", "env: GOCVX_TEST_A=3\n", "3"},
		{"GOCVX_TEST_A=", "env: GOCVX_TEST_A=\n", ""},
	} {
		out, err := Environment(c.args)
		if err != nil || out != c.out || os.Getenv("GOCVX_TEST_A") != c.env {
			t.Errorf("%%env %s = %q, %v; variable %q", c.args, out, err, os.Getenv("GOCVX_TEST_A"))
		}
	}
	all, err := Environment("")
	if err != nil || !strings.Contains(all, "GOCVX_TEST_API_TOKEN=<hidden>\n") || strings.Contains(all, "s3cret") || !strings.Contains(all, "GOCVX_TEST_A=\n") {
		t.Errorf("%%env listing: %v\n%s", err, all)
	}
	if _, err := Environment("GOCVX_TEST_UNSET_XYZ"); err == nil || err.Error() != "%env: GOCVX_TEST_UNSET_XYZ is not set" {
		t.Errorf("an unset variable: %v", err)
	}
}

func TestFormatTime(t *testing.T) {
	got := FormatTime(2500*time.Millisecond, 1234*time.Microsecond, 0)
	want := "CPU times: user 1.23 ms, sys: 0 ns, total: 1.23 ms\nWall time: 2.5 s\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	u0, _ := CPUTime()
	for i := 0; i < 1e8; i++ {
		spin += i
	}
	if u1, _ := CPUTime(); u1 <= u0 {
		t.Errorf("CPU time did not advance over a busy loop: %v then %v", u0, u1)
	}
}

var spin int

func TestFormatWhos(t *testing.T) {
	vars := []Var{{"x", "int", "3"}, {"data", "[]float64", "[" + strings.Repeat("1.5 ", 30) + "]"}, {"m", "*mat.Dense", "&{{2 2 [1 0\n 0 1]}}"}}
	if got := FormatWho(vars); got != "data\tm\tx\n" {
		t.Errorf("%%who = %q", got)
	}
	want := `Variable   Type         Data/Info
---------------------------------
data       []float64    [1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.5 1.…
m          *mat.Dense   &{{2 2 [1 0 0 1]}}
x          int          3
`
	if got := FormatWhos(vars); got != want {
		t.Errorf("%%whos =\n%s\nwant\n%s", got, want)
	}
	if FormatWhos(nil) != "Interactive namespace is empty.\n" {
		t.Error("empty %whos")
	}
}

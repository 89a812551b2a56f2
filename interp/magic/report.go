package magic

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// hidden are parts of environment variable names whose values %env does not
// list (IPython hides the same).
var hidden = []string{"KEY", "TOKEN", "SECRET", "PASS", "CREDENTIAL"}

// Environment runs %env: no argument lists the environment (secret-looking
// values hidden), NAME shows one variable, NAME=VALUE or NAME VALUE sets one
// for the kernel, the cells and the commands they start (the go command
// included). It returns the text to show.
func Environment(args string) (string, error) {
	args = strings.TrimSpace(args)
	if args == "" {
		env := os.Environ()
		sort.Strings(env)
		var b strings.Builder
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			for _, h := range hidden {
				if strings.Contains(strings.ToUpper(k), h) {
					v = "<hidden>"
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		return b.String(), nil
	}
	name, value, set := strings.Cut(args, "=")
	if !set {
		name, value, set = strings.Cut(args, " ")
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if name == "" || strings.ContainsAny(name, " \t") {
		return "", fmt.Errorf("%%env: %q is not a variable name (%%env NAME=VALUE)", name)
	}
	if !set {
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("%%env: %s is not set", name)
		}
		return v + "\n", nil
	}
	if err := os.Setenv(name, value); err != nil {
		return "", fmt.Errorf("%%env: %v", err)
	}
	return fmt.Sprintf("env: %s=%s\n", name, value), nil
}

// FormatTime is the report of %time and %%time, worded as IPython's.
func FormatTime(wall, user, sys time.Duration) string {
	return fmt.Sprintf("CPU times: user %s, sys: %s, total: %s\nWall time: %s\n", short(user), short(sys), short(user+sys), short(wall))
}

// short writes a duration with three significant digits and the unit IPython uses.
func short(d time.Duration) string {
	s := d.Seconds()
	switch {
	case d == 0:
		return "0 ns"
	case s >= 1:
		return fmt.Sprintf("%.3g s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3g ms", s*1e3)
	case s >= 1e-6:
		return fmt.Sprintf("%.3g µs", s*1e6)
	}
	return fmt.Sprintf("%d ns", d.Nanoseconds())
}

// Var is a notebook variable as %who and %whos show it.
type Var struct {
	Name  string
	Type  string // as Go writes it
	Value string // as fmt's %v writes it
}

// FormatWho lists the variables' names, sorted, as IPython's %who.
func FormatWho(vars []Var) string {
	if len(vars) == 0 {
		return "Interactive namespace is empty.\n"
	}
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	sort.Strings(names)
	return strings.Join(names, "\t") + "\n"
}

// valueWidth is how much of a value %whos shows.
const valueWidth = 60

// FormatWhos is a table of the variables with their types and values, sorted
// by name; long values are cut at 60 characters.
func FormatWhos(vars []Var) string {
	if len(vars) == 0 {
		return "Interactive namespace is empty.\n"
	}
	vars = append([]Var(nil), vars...)
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	wn, wt := len("Variable"), len("Type")
	for _, v := range vars {
		wn = max(wn, utf8.RuneCountInString(v.Name))
		wt = max(wt, utf8.RuneCountInString(v.Type))
	}
	var b strings.Builder
	row := func(n, t, v string) {
		fmt.Fprintf(&b, "%s%s   %s%s   %s\n", n, strings.Repeat(" ", wn-utf8.RuneCountInString(n)), t, strings.Repeat(" ", wt-utf8.RuneCountInString(t)), v)
	}
	row("Variable", "Type", "Data/Info")
	b.WriteString(strings.Repeat("-", wn+wt+6+len("Data/Info")) + "\n")
	for _, v := range vars {
		val := strings.Join(strings.Fields(v.Value), " ")
		if utf8.RuneCountInString(val) > valueWidth {
			val = string([]rune(val)[:valueWidth-1]) + "…"
		}
		row(v.Name, v.Type, val)
	}
	return b.String()
}

package listenfirst

import "testing"

func TestConnectionFile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"kernel", "-f", "/run/k.json"}, "/run/k.json"},
		{[]string{"kernel", "--f", "k.json"}, "k.json"},
		{[]string{"kernel", "-f=k.json"}, "k.json"},
		{[]string{"kernel", "--f=k.json"}, "k.json"},
		{[]string{"kernel", "-f"}, ""},
		{[]string{"kernel", "-f="}, ""},
		{[]string{"kernel", "-f", "a", "b"}, ""},
		{[]string{"kernel", "f", "a"}, ""},
		{[]string{"kernel", "---f", "a"}, ""},
		{[]string{"run", "-f", "a"}, ""},
		{[]string{"kernel"}, ""},
		{nil, ""},
	} {
		file, ok := ConnectionFile(tc.args)
		if file != tc.file || ok != (tc.file != "") {
			t.Errorf("ConnectionFile(%q) = %q, %v; want %q", tc.args, file, ok, tc.file)
		}
	}
}

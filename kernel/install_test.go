package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTemplate checks that the repository's kernel.json is the spec Install writes,
// with the bare command in place of the absolute path.
func TestTemplate(t *testing.T) {
	b, err := os.ReadFile("../kernel.json")
	if err != nil {
		t.Fatal(err)
	}
	var got Spec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := NewSpec("gocvx"); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel.json = %+v\nNewSpec    = %+v", got, want)
	}
}

func TestInstall(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	dir, err := Install(InstallOptions{Binary: "relative/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "kernels", "gocvx"); dir != want {
		t.Errorf("user install went to %s, want %s", dir, want)
	}
	prefix := t.TempDir()
	pdir, err := Install(InstallOptions{Prefix: prefix, Binary: "/opt/bin/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter", "kernels", "gocvx"); pdir != want {
		t.Errorf("prefix install went to %s, want %s", pdir, want)
	}

	var spec Spec
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(spec.Argv[0]) || filepath.Base(spec.Argv[0]) != "gocvx" {
		t.Errorf("argv[0] = %q, want an absolute path to gocvx", spec.Argv[0])
	}
	if spec.InterruptMode != "message" || spec.DisplayName != "Go (gocvx)" || spec.Language != "go" {
		t.Errorf("spec = %+v", spec)
	}
	for _, n := range []int{32, 64} {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", n, n)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if s := img.Bounds().Size(); s.X != n || s.Y != n {
			t.Errorf("logo %d is %v", n, s)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "logo-svg.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) {
		t.Errorf("logo-svg.svg: %v %.20q", err, svg)
	}
}

// TestInstallMemoryLimit checks the env that --memory-limit writes, and that a
// size the kernel would not understand is refused before anything is written.
func TestInstallMemoryLimit(t *testing.T) {
	read := func(dir string) Spec {
		t.Helper()
		var spec Spec
		b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatal(err)
		}
		return spec
	}
	for _, size := range []string{"8GiB", "512MiB", "2GB", "off", " 1.5GiB "} {
		prefix := t.TempDir()
		dir, err := Install(InstallOptions{Prefix: prefix, Binary: "/opt/bin/gocvx", MemoryLimit: size})
		if err != nil {
			t.Fatalf("%q: %v", size, err)
		}
		want := map[string]any{"GOCVX_MEMORY_LIMIT": strings.TrimSpace(size)}
		if got := read(dir).Env; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: env = %v, want %v", size, got, want)
		}
	}
	prefix := t.TempDir()
	dir, err := Install(InstallOptions{Prefix: prefix, Binary: "/opt/bin/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if env := read(dir).Env; env != nil {
		t.Errorf("without a memory limit: env = %v, want none", env)
	}
	for _, bad := range []string{"lots", "8 parsecs", "-1GiB", "0"} {
		empty := t.TempDir()
		if _, err := Install(InstallOptions{Prefix: empty, Binary: "/opt/bin/gocvx", MemoryLimit: bad}); err == nil || !strings.Contains(err.Error(), "not a size") {
			t.Errorf("%q: err = %v, want a refusal", bad, err)
		}
		if _, err := os.Stat(filepath.Join(empty, "share")); !os.IsNotExist(err) {
			t.Errorf("%q: the refused install wrote %s/share", bad, empty)
		}
	}
}

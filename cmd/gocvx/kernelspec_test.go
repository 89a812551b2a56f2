package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// TestTemplate checks that the repository's kernel.json is the spec installSpec writes,
// with the bare command in place of the absolute path.
func TestTemplate(t *testing.T) {
	b, err := os.ReadFile("../../kernel.json")
	if err != nil {
		t.Fatal(err)
	}
	var got kernelSpec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := newSpec("gocvx"); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel.json = %+v\nnewSpec    = %+v", got, want)
	}
}

func TestInstallSpec(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	dir, err := installSpec(installOptions{Binary: "relative/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "kernels", "gocvx"); dir != want {
		t.Errorf("user install went to %s, want %s", dir, want)
	}
	prefix := t.TempDir()
	pdir, err := installSpec(installOptions{Prefix: prefix, Binary: "/opt/bin/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter", "kernels", "gocvx"); pdir != want {
		t.Errorf("prefix install went to %s, want %s", pdir, want)
	}

	var spec kernelSpec
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

// TestInstallMemoryLimitEnv checks the env that --memory-limit writes, and that a
// size the kernel would not understand is refused before anything is written.
func TestInstallMemoryLimitEnv(t *testing.T) {
	read := func(dir string) kernelSpec {
		t.Helper()
		var spec kernelSpec
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
		dir, err := installSpec(installOptions{Prefix: prefix, Binary: "/opt/bin/gocvx", MemoryLimit: size})
		if err != nil {
			t.Fatalf("%q: %v", size, err)
		}
		want := map[string]any{"GOCVX_MEMORY_LIMIT": strings.TrimSpace(size)}
		if got := read(dir).Env; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: env = %v, want %v", size, got, want)
		}
	}
	prefix := t.TempDir()
	dir, err := installSpec(installOptions{Prefix: prefix, Binary: "/opt/bin/gocvx"})
	if err != nil {
		t.Fatal(err)
	}
	if env := read(dir).Env; env != nil {
		t.Errorf("without a memory limit: env = %v, want none", env)
	}
	for _, bad := range []string{"lots", "8 parsecs", "-1GiB", "0"} {
		empty := t.TempDir()
		if _, err := installSpec(installOptions{Prefix: empty, Binary: "/opt/bin/gocvx", MemoryLimit: bad}); err == nil || !strings.Contains(err.Error(), "not a size") {
			t.Errorf("%q: err = %v, want a refusal", bad, err)
		}
		if _, err := os.Stat(filepath.Join(empty, "share")); !os.IsNotExist(err) {
			t.Errorf("%q: the refused install wrote %s/share", bad, empty)
		}
	}
}

// withUmask runs f with the process's umask set to mask. The tests of this package
// do not run in parallel, so nothing else creates files meanwhile.
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// TestInstallModes checks the modes of the kernelspec's files and folders under a
// permissive, the usual and a restrictive umask: never wider than 0644 and 0755, and
// narrowed by the umask. A kernel.json left with a wider mode is replaced.
func TestInstallModes(t *testing.T) {
	for _, mask := range []int{0o000, 0o022, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", mask), func(t *testing.T) {
			prefix := t.TempDir()
			old := filepath.Join(prefix, "share", "jupyter", "kernels", specName, "kernel.json")
			if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(old, []byte("{}"), 0o666); err != nil {
				t.Fatal(err)
			}
			os.Chmod(old, 0o666) // whatever the umask
			var dir string
			var err error
			withUmask(mask, func() {
				dir, err = installSpec(installOptions{Prefix: prefix, Binary: "/opt/gocvx"})
			})
			if err != nil {
				t.Fatal(err)
			}
			// The folders installSpec created (share/jupyter/kernels existed already).
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 4 {
				t.Errorf("kernelspec folder holds %d entries, want kernel.json and 3 logos (no temporary files)", len(entries))
			}
			for _, e := range entries {
				info, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				if want := fs.FileMode(0o644 &^ mask); info.Mode().Perm() != want {
					t.Errorf("%s has mode %v, want %v", e.Name(), info.Mode().Perm(), want)
				}
			}
			// A fresh install creates its folders 0755 less the umask.
			fresh := t.TempDir()
			withUmask(mask, func() {
				dir, err = installSpec(installOptions{Prefix: fresh, Binary: "/opt/gocvx"})
			})
			if err != nil {
				t.Fatal(err)
			}
			for d := dir; d != fresh; d = filepath.Dir(d) {
				info, err := os.Stat(d)
				if err != nil {
					t.Fatal(err)
				}
				if want := fs.FileMode(0o755 &^ mask); info.Mode().Perm() != want {
					t.Errorf("%s has mode %v, want %v", d, info.Mode().Perm(), want)
				}
			}
		})
	}
}

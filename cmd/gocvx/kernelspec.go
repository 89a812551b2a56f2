package main

import (
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gocvx/gocvx/interp"
)

//go:generate go run logo_gen.go

// The kernelspec: what `gocvx install` writes where Jupyter looks for kernels.

// logos are the kernelspec's logos, drawn by logo_gen.go.
//
//go:embed kernelspec/logo-32x32.png kernelspec/logo-64x64.png kernelspec/logo-svg.svg
var logos embed.FS

// specName is the kernelspec's name: the folder it is installed in, and what
// clients pass as kernel_name.
const specName = "gocvx"

// kernelSpec is a kernelspec (kernel.json). The repository's kernel.json is its
// template, with the bare command "gocvx" in place of the binary's absolute path.
type kernelSpec struct {
	Argv          []string       `json:"argv"`
	DisplayName   string         `json:"display_name"`
	Language      string         `json:"language"`
	InterruptMode string         `json:"interrupt_mode"`
	Env           map[string]any `json:"env,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
}

// newSpec returns the kernelspec that runs binary.
func newSpec(binary string) kernelSpec {
	return kernelSpec{
		Argv:          []string{binary, "kernel", "-f", "{connection_file}"},
		DisplayName:   "Go (gocvx)",
		Language:      "go",
		InterruptMode: "message",
		Metadata:      map[string]any{"debugger": false},
	}
}

// installOptions say where installSpec writes the kernelspec.
type installOptions struct {
	// Prefix, if set, installs into Prefix/share/jupyter/kernels/gocvx (as
	// `jupyter kernelspec install --prefix`); otherwise the kernelspec goes to the
	// user's Jupyter data folder: $JUPYTER_DATA_DIR, else the platform's default
	// (~/.local/share/jupyter on Linux, honouring $XDG_DATA_HOME).
	Prefix string
	// Binary is the kernel binary that kernel.json runs; empty means the running
	// executable. It is made absolute.
	Binary string
	// MemoryLimit, if set, is the kernel's memory ceiling, written into
	// kernel.json's env as GOCVX_MEMORY_LIMIT (interp.MemoryLimitEnv): a size
	// such as "8GiB", "512MiB" or "2GB", or "off". installSpec refuses a value
	// that interp.ParseMemoryLimit does not accept, the parser the kernel's cell
	// engine reads it with. Empty: no env, the kernel takes the default ceiling
	// (three quarters of the machine's memory).
	MemoryLimit string
}

// installSpec writes the kernelspec (kernel.json and the logos) and returns the
// folder it wrote.
func installSpec(o installOptions) (string, error) {
	bin := o.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("cannot find the gocvx binary: %w", err)
		}
		bin = exe
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	spec := newSpec(bin)
	if o.MemoryLimit != "" {
		limit := strings.TrimSpace(o.MemoryLimit)
		if _, err := interp.ParseMemoryLimit(limit); err != nil {
			return "", fmt.Errorf("memory limit %q is not a size such as 8GiB, 512MiB, 2GB or off", o.MemoryLimit)
		}
		spec.Env = map[string]any{interp.MemoryLimitEnv: limit}
	}
	var dir string
	if o.Prefix != "" {
		prefix, err := filepath.Abs(o.Prefix)
		if err != nil {
			return "", err
		}
		dir = filepath.Join(prefix, "share", "jupyter", "kernels", specName)
	} else {
		data, err := jupyterDataDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(data, "kernels", specName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	if err := writeFile(filepath.Join(dir, "kernel.json"), append(js, '\n')); err != nil {
		return "", err
	}
	for _, name := range []string{"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"} {
		b, err := logos.ReadFile("kernelspec/" + name)
		if err != nil {
			return "", err
		}
		if err := writeFile(filepath.Join(dir, name), b); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// writeFile replaces name with a new file holding b, created with mode 0644 less the
// umask (never wider, whatever the mode of the file it replaces), written beside it
// and renamed over it so that Jupyter never reads half a kernel.json.
func writeFile(name string, b []byte) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := fmt.Sprintf("%s.%x.tmp", name, rnd)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// jupyterDataDir returns the user's Jupyter data folder, as jupyter_core computes it.
func jupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	switch runtime.GOOS {
	case "darwin":
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Jupyter"), nil
	case "windows":
		if appdata := os.Getenv("APPDATA"); appdata != "" {
			return filepath.Join(appdata, "jupyter"), nil
		}
		if err != nil {
			return "", err
		}
		return filepath.Join(home, ".jupyter", "data"), nil
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter"), nil
	}
	if err != nil {
		return "", errors.New("no home folder for the user's kernelspec; use --prefix or JUPYTER_DATA_DIR")
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

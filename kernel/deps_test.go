package kernel

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestProtocolLayerDependencies checks that the Jupyter protocol (kernel) and the
// headless notebook runner (notebook) compile without the cell engine, the solver,
// the display package or the plotting library: they talk to the engine through the
// types of package cellio, and cmd/gocvx wires the engine in.
func TestProtocolLayerDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-deps",
		"github.com/gocvx/gocvx/kernel/...", "github.com/gocvx/gocvx/notebook/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	forbidden := []string{
		"github.com/gocvx/gocvx/interp",
		"github.com/gocvx/gocvx/solver",
		"github.com/gocvx/gocvx/display",
		"github.com/traefik/yaegi",
		"gonum.org/v1/plot",
		"gonum.org/v1/gonum",
	}
	found := map[string]bool{}
	for _, d := range deps {
		found[d] = true
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the protocol layer depends on %s", d)
			}
		}
	}
	if !found["github.com/gocvx/gocvx/cellio"] {
		t.Error("the protocol layer does not use github.com/gocvx/gocvx/cellio")
	}
}

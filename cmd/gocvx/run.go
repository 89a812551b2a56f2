package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocvx/gocvx/interp"
	"github.com/gocvx/gocvx/notebook"
)

// The run subcommand registers itself, so main's dispatch needs no edit.
func init() {
	commands["run"] = struct {
		run   func(args []string) error
		usage string
	}{runNotebook, "run NOTEBOOK.ipynb [-o OUT.ipynb] [--html OUT.html]   execute a notebook without Jupyter (run -h: more)"}
}

// runNotebook executes every code cell of a notebook in order on the cell engine of
// the kernel, with the notebook's directory as working directory, and writes the
// executed notebook and/or its HTML page.
func runNotebook(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	out := fs.String("o", "", "write the executed notebook to `OUT.ipynb`")
	inplace := fs.Bool("inplace", false, "write the executed notebook over NOTEBOOK.ipynb")
	htmlOut := fs.String("html", "", "write a standalone HTML page of the executed notebook to `OUT.html`")
	allowErrors := fs.Bool("allow-errors", false, "keep running after a cell fails (its error is stored as an output; the exit status is still 1)")
	timeout := fs.Duration("timeout", 0, "interrupt and fail a cell that runs longer than `D` (e.g. 2m); 0 means no limit")
	quiet := fs.Bool("quiet", false, "do not report each cell on standard error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gocvx run NOTEBOOK.ipynb [-o OUT.ipynb | --inplace] [--html OUT.html] [--allow-errors] [--timeout D] [--quiet]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the notebook.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return errors.New("exactly one notebook is required")
	}
	if *inplace && *out != "" {
		return errors.New("-o and --inplace exclude each other")
	}
	input, err := filepath.Abs(positional[0])
	if err != nil {
		return err
	}
	if *inplace {
		*out = input
	}
	for _, p := range []*string{out, htmlOut} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	nb, err := notebook.ReadFile(input)
	if err != nil {
		return err
	}

	// The first interrupt (Ctrl-C) stops the running cell and the run; the outputs so
	// far are still written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	session, err := interp.New(interp.Options{CaptureOutput: true, Args: []string{input}, Notebook: input})
	if err != nil {
		return err
	}
	// While the session captures file descriptors 1 and 2, the process's own
	// messages go to its real standard error.
	stderr := interp.ProcessStderr()
	var progress io.Writer
	if !*quiet {
		progress = stderr
		fmt.Fprintf(progress, "gocvx run: %s\n", positional[0])
	}
	start := time.Now()
	runErr := notebook.Run(ctx, nb, session, notebook.Options{
		AllowErrors: *allowErrors,
		Dir:         filepath.Dir(input),
		Progress:    progress,
		CellTimeout: *timeout,
	})
	session.Close()
	if ctx.Err() != nil && runErr != nil {
		runErr = fmt.Errorf("interrupted: %v", runErr)
	}

	var written []string
	if *out != "" {
		if err := notebook.WriteFile(*out, nb); err != nil {
			return err
		}
		written = append(written, *out)
	}
	if *htmlOut != "" {
		if err := notebook.WriteHTMLFile(*htmlOut, nb, notebook.HTMLOptions{}); err != nil {
			return err
		}
		written = append(written, *htmlOut)
	}
	if !*quiet {
		status, note := "ran", ""
		var failed notebook.Errors
		switch {
		case errors.As(runErr, &failed):
			note = fmt.Sprintf(" (%d failed)", len(failed))
		case runErr != nil:
			status = "stopped"
		}
		fmt.Fprintf(os.Stderr, "gocvx run: %s %s%s in %s", status, positional[0], note, time.Since(start).Round(10*time.Millisecond))
		if len(written) > 0 {
			fmt.Fprintf(os.Stderr, "; wrote %s", strings.Join(written, ", "))
		} else {
			fmt.Fprint(os.Stderr, " (outputs not saved: use -o OUT.ipynb, --inplace or --html OUT.html)")
		}
		fmt.Fprintln(os.Stderr)
	}
	return runErr
}

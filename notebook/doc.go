// Package notebook reads, executes and writes Jupyter notebooks (nbformat v4)
// without Jupyter, and exports them to standalone HTML pages.
//
// A notebook file is read with Read or ReadFile into a Notebook, its code cells are
// executed in order by Run on the same cell engine as the gocvx kernel (an
// interp.Session), and the result is written back with Write or WriteFile, in the
// layout Jupyter itself writes (sorted keys, one-space indentation, multi-line strings
// split into lists of lines). Run records outputs as a Jupyter front end does:
// consecutive stream outputs of one name are merged, display_data and execute_result
// keep their MIME bundles, update_display_data replaces every earlier output with the
// same display ID, clear_output empties the cell's outputs (with wait, just before the
// next output arrives), and a failed cell stores an error output and stops the run
// unless Options.AllowErrors is set. The state of the Jupyter widgets that cells open
// is kept from their comm messages and saved in the notebook's metadata (widgets.go).
//
// WriteHTML renders a notebook as one self-contained HTML page: Go code highlighted
// with go/scanner, markdown cells rendered, images inlined as data URIs, widgets drawn
// from their saved state as static HTML. It needs neither Python nor a network
// connection.
//
//	nb, err := notebook.ReadFile("notebooks/00-tutorial.ipynb")
//	session, err := interp.New(interp.Options{})
//	err = notebook.Run(ctx, nb, session, notebook.Options{Dir: "notebooks"})
//	err = notebook.WriteFile("out.ipynb", nb)
//
// The command `gocvx run NOTEBOOK.ipynb [-o OUT.ipynb] [--html OUT.html]` does this.
//
// References: the nbformat v4 schema (nbformat.v4.5.schema.json) and Jupyter's
// notebook client (nbclient), whose output handling Run follows.
package notebook

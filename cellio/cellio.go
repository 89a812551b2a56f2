package cellio

// Bundle is a MIME bundle, as Jupyter's display_data and execute_result carry it: Data
// maps a MIME type to its payload (a string, or for JSON types a decoded JSON value;
// binary types such as image/png are base64 strings) and Metadata maps a MIME type to
// a map of that type's metadata (e.g. image width and height). Cells know it as
// display.Bundle.
type Bundle struct {
	Data     map[string]any
	Metadata map[string]any
}

// Cell is one execution request.
type Cell struct {
	// Code is the cell's source.
	Code string
	// Number names the cell in positions and tracebacks ("Cell7:3:5"); the kernel
	// passes the execution count that the front end shows as In[7].
	Number int
	// Output receives everything the cell produces while it runs; nil discards it.
	Output Output
	// Input supplies lines when the cell reads standard input; nil means standard
	// input is at end of file (Jupyter's allow_stdin false).
	Input Input
	// Transient marks a Go expression evaluated only for its value, as the
	// user_expressions of an execute request are: the code must be a single
	// expression, and it is not recorded (a replay does not evaluate it again).
	Transient bool
}

// Output receives what a running cell produces, in the order it was produced: the
// output messages of a cell (stream, display_data, update_display_data,
// clear_output). Calls come from one goroutine at a time.
type Output interface {
	// Stream delivers text written to "stdout" or "stderr", coalesced into chunks.
	Stream(name, text string)
	// Display publishes a MIME bundle. A non-empty displayID names the output;
	// update set means replace the output of that name (update_display_data).
	Display(b Bundle, displayID string, update bool)
	// Clear clears the cell's output (clear_output); with wait, when the next output
	// arrives.
	Clear(wait bool)
}

// Input reads one line of the cell's standard input from the user.
type Input interface {
	// ReadLine asks the front end for a line (input_request) and returns it without
	// its newline.
	ReadLine(prompt string, password bool) (string, error)
}

// Outcome is what an executed cell leaves besides its streamed output.
type Outcome struct {
	// Value is the cell's result (execute_result) when its last statement is an
	// expression with a value; nil otherwise. It always holds "text/plain".
	Value *Bundle
	// Error is set when the cell failed to compile, panicked or was interrupted.
	Error *Error
	// Page is documentation to show in the pager (an execute_reply payload with
	// source "page"), set when the cell asked for help with `name?`.
	Page *Bundle
}

// Error is a failed cell, shaped like Jupyter's error message.
type Error struct {
	Name      string   // ename: "CompileError", "panic", "runtime error", "Interrupted", …
	Value     string   // evalue: the message, with positions as CellN:line:col
	Traceback []string // one string per line, interpreted frames with cell positions; never nil
}

func (e *Error) Error() string { return e.Name + ": " + e.Value }

// Completion is the answer to a completion request. Start and End are offsets in
// Unicode code points into the code, delimiting the text the matches replace.
type Completion struct {
	Matches    []string
	Start, End int
	Metadata   map[string]any
}

package cellio

// CommKind says what a comm message does; its value is the Jupyter message type.
type CommKind string

// The three kinds of comm message.
const (
	// CommOpen opens a comm on a target, which the receiving side looks up by name.
	CommOpen CommKind = "comm_open"
	// CommMsg carries data on an open comm.
	CommMsg CommKind = "comm_msg"
	// CommClose closes a comm.
	CommClose CommKind = "comm_close"
)

// Comm is one message of a comm: a channel between code in the kernel and code in
// the front end, opened by either side on a named target (Jupyter widgets use the
// target "jupyter.widget", one comm per widget model). Cell code publishes comm
// messages through an Output that is a CommOutput; the front end's messages reach the
// engine as the kernel receives them.
type Comm struct {
	Kind CommKind
	// ID names the comm (comm_id); both sides use it for every message of the comm.
	ID string
	// Target is the name of the comm's target (comm_open only).
	Target string
	// Data is the message's payload (content.data): a JSON object whose values are
	// JSON values (strings, float64 or json.Number, bool, nil, []any, map[string]any)
	// as encoding/json produces and accepts them.
	Data map[string]any
	// Metadata is the message's metadata, the JSON object sent beside the content
	// (the widget protocol puts its version there on comm_open).
	Metadata map[string]any
	// Buffers are binary buffers sent after the JSON parts of the message, without
	// encoding; what they stand for is said in Data (the widget protocol's
	// buffer_paths).
	Buffers [][]byte
}

// CommOutput is an Output that also carries comm messages to the front end. The
// kernel's outputs are CommOutputs (a comm message is published on iopub with the
// request as its parent); the headless notebook runner's keeps the state of widgets,
// to save it in the notebook. Comm may be called from any goroutine, also while
// another goroutine calls the Output's other methods.
type CommOutput interface {
	Output
	Comm(m Comm)
}

package widget

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gocvx/gocvx/cellio"
	"github.com/gocvx/gocvx/display"
	"github.com/gocvx/gocvx/internal/cellrt"
)

// The protocol: versions, names and modules (ipywidgets 8: @jupyter-widgets/base 6
// and controls 5 implement model modules 2.0.0, @jupyter-widgets/output 6 model
// module 1.0.0).
const (
	// Target is the comm target of widget models.
	Target = "jupyter.widget"
	// ControlTarget is the comm target on which a front end asks for the state of
	// every widget at once (request_states).
	ControlTarget = "jupyter.widget.control"
	// ProtocolVersion is the version of the widget messaging protocol spoken: the
	// metadata of every comm_open carries it, and a view's MIME data its major and
	// minor parts.
	ProtocolVersion = "2.1.0"
	// ViewMIME is the MIME type under which a widget is displayed.
	ViewMIME = "application/vnd.jupyter.widget-view+json"

	baseModule     = "@jupyter-widgets/base"
	controlsModule = "@jupyter-widgets/controls"
	outputModule   = "@jupyter-widgets/output"
	baseVersion    = "2.0.0"
	controlsVer    = "2.0.0"
	outputVersion  = "1.0.0"
)

// model is the kernel's side of one widget model: its state, kept as the front end
// sees it (JSON values, []byte for binary values), and the comm that keeps both
// sides equal. Controls embed it.
type model struct {
	id   string
	name string // the model name without "Model", for text/plain ("IntSlider")

	mu     sync.Mutex
	state  map[string]any
	closed bool
	// home is where the output of callbacks that the front end triggers goes:
	// the cell that showed the widget last (or made it).
	home cellio.Output
	// editable holds, for each key the front end may change, the function that
	// checks and converts a value it sends (ok false: rejected).
	editable map[string]func(v any) (any, bool)
	// react runs the callbacks of what the front end changed, between cells;
	// pending is set while a call of it is queued, so that many changes (a
	// dragged slider) wait as one and the callbacks see the latest state.
	react   func()
	pending bool
	// custom reacts to a custom message of the front end as it arrives (no cell
	// code) and returns the work for between cells.
	custom func(content map[string]any) (work func())
	// children are the models a box shows (their home follows the box's).
	children []*model
}

// newModel makes the model of a widget with the given model and view names and
// their state, opens its comm, and registers it. The state's _model_* and
// _view_* keys are added.
func newModel(name, module, version, view, viewModule, viewVersion string, state map[string]any) *model {
	m := &model{id: newID(), name: strings.TrimSuffix(name, "Model"), state: state, editable: map[string]func(any) (any, bool){}}
	state["_model_name"], state["_model_module"], state["_model_module_version"] = name, module, version
	state["_view_name"], state["_view_module"], state["_view_module_version"] = view, viewModule, viewVersion
	m.home = cellrt.Here()
	all.Lock()
	all.models[m.id] = m
	all.Unlock()
	cellrt.OpenComm(m.id, Target, m.receive)
	st, paths, bufs := splitBuffers(m.state)
	cellrt.PublishComm(cellio.Comm{
		Kind: cellio.CommOpen, ID: m.id, Target: Target,
		Data:     map[string]any{"state": st, "buffer_paths": paths},
		Metadata: map[string]any{"version": ProtocolVersion},
		Buffers:  bufs,
	})
	return m
}

// all holds the open models, for the front end's request_states.
var all = struct {
	sync.Mutex
	models map[string]*model
}{models: map[string]*model{}}

// newID returns a model ID as ipywidgets makes them: 32 hexadecimal digits.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ModelID returns the ID of the widget's model (the ID of its comm).
func (m *model) ModelID() string { return m.id }

func (m *model) base() *model { return m }

// ref is how the state of another model refers to this one.
func (m *model) ref() string { return "IPY_MODEL_" + m.id }

// get returns the value of a key of the state.
func (m *model) get(key string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[key]
}

// has reports whether the state has key.
func (m *model) has(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.state[key]
	return ok
}

// set changes keys of the state and sends them to the front end (update).
func (m *model) set(changes map[string]any) {
	m.mu.Lock()
	for k, v := range changes {
		m.state[k] = v
	}
	closed := m.closed
	m.mu.Unlock()
	if !closed {
		m.send("update", changes)
	}
}

// send publishes a state message (update, echo_update) with the given keys.
func (m *model) send(method string, state map[string]any) {
	st, paths, bufs := splitBuffers(state)
	cellrt.PublishComm(cellio.Comm{Kind: cellio.CommMsg, ID: m.id,
		Data: map[string]any{"method": method, "state": st, "buffer_paths": paths}, Buffers: bufs})
}

// fullState returns a copy of the state.
func (m *model) fullState() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := make(map[string]any, len(m.state))
	for k, v := range m.state {
		st[k] = v
	}
	return st
}

// receive handles a message of the front end on the model's comm (a
// cellrt.CommHandler): updates of editable keys are applied and echoed at once
// (echo_update, with the update's message as parent; a value converted on the way
// is sent back as an update), request_state is answered with the full state, a
// custom message goes to the control; the callbacks come back as work.
func (m *model) receive(c cellio.Comm, reply func(cellio.Comm)) (work func()) {
	if c.Kind == cellio.CommClose {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		forget(m.id)
		return nil
	}
	msg := func(method string, state map[string]any) cellio.Comm {
		st, paths, bufs := splitBuffers(state)
		return cellio.Comm{Kind: cellio.CommMsg, ID: m.id,
			Data: map[string]any{"method": method, "state": st, "buffer_paths": paths}, Buffers: bufs}
	}
	switch c.Data["method"] {
	case "update":
		st, _ := c.Data["state"].(map[string]any)
		if st == nil {
			return nil
		}
		putBuffers(st, c.Data["buffer_paths"], c.Buffers)
		accepted, converted := m.apply(st)
		if len(accepted) > 0 {
			reply(msg("echo_update", accepted))
		}
		if len(converted) > 0 {
			reply(msg("update", converted))
		}
		if len(accepted) > 0 {
			return m.schedule()
		}
	case "request_state":
		reply(msg("update", m.fullState()))
	case "custom":
		content, _ := c.Data["content"].(map[string]any)
		if m.custom != nil && content != nil {
			return m.custom(content)
		}
	}
	return nil
}

// apply sets the editable keys of st that pass their check; it returns the keys
// accepted (as sent) and those whose value was converted (as kept). The checks run
// without the model's lock: they may read the state.
func (m *model) apply(st map[string]any) (accepted, converted map[string]any) {
	accepted, converted = map[string]any{}, map[string]any{}
	for _, k := range sortedKeys(st) {
		v := st[k]
		m.mu.Lock()
		check, ok := m.editable[k]
		m.mu.Unlock()
		if !ok {
			continue
		}
		nv, ok := check(v)
		m.mu.Lock()
		if ok {
			m.state[k] = nv
			accepted[k] = v
			if !sameJSON(nv, v) {
				converted[k] = nv
			}
		} else {
			converted[k] = m.state[k]
		}
		m.mu.Unlock()
	}
	return accepted, converted
}

// sameJSON reports whether a and b encode to the same JSON (7 and 7.0 do).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// allow lets the front end change key, through check.
func (m *model) allow(key string, check func(v any) (any, bool)) {
	m.mu.Lock()
	m.editable[key] = check
	m.mu.Unlock()
}

// schedule returns the work that runs the model's callbacks, unless such work is
// already waiting (it will see this change too).
func (m *model) schedule() func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.react == nil || m.pending {
		return nil
	}
	m.pending = true
	return func() {
		m.mu.Lock()
		m.pending = false
		m.mu.Unlock()
		m.react()
	}
}

// shownIn makes out the home of the model and of the models it shows.
func (m *model) shownIn(out cellio.Output) {
	if out == nil {
		return
	}
	m.mu.Lock()
	m.home = out
	children := m.children
	m.mu.Unlock()
	for _, c := range children {
		c.shownIn(out)
	}
}

func (m *model) homeOutput() cellio.Output {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.home
}

// Render returns the widget's display: its view for a front end with the widget
// manager (application/vnd.jupyter.widget-view+json), and a line of text for the
// others. Showing a widget makes its cell the one where the output of its callbacks
// goes.
func (m *model) Render() display.Bundle {
	m.shownIn(cellrt.Here())
	return display.Bundle{
		Data: map[string]any{
			ViewMIME:     map[string]any{"model_id": m.id, "version_major": 2, "version_minor": 1},
			"text/plain": m.String(),
		},
		Metadata: map[string]any{},
	}
}

// String describes the widget by its model name and the main keys of its state.
func (m *model) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var parts []string
	for _, k := range []string{"description", "value", "min", "max", "index", "_options_labels", "children"} {
		v, ok := m.state[k]
		if !ok || v == nil || v == "" {
			continue
		}
		switch v := v.(type) {
		case []byte:
			parts = append(parts, fmt.Sprintf("%s=<%d bytes>", k, len(v)))
		case string:
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		case []any:
			parts = append(parts, fmt.Sprintf("%s=%d", strings.TrimPrefix(k, "_options_"), len(v)))
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return m.name + "(" + strings.Join(parts, ", ") + ")"
}

// Close closes the widget's comm: the front end removes its views, and changes of
// the widget are no longer sent.
func (m *model) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	forget(m.id)
	cellrt.PublishComm(cellio.Comm{Kind: cellio.CommClose, ID: m.id, Data: map[string]any{}})
}

func forget(id string) {
	cellrt.CloseComm(id)
	all.Lock()
	delete(all.models, id)
	all.Unlock()
}

// states returns the state of every open model, as request_states answers it:
// model ID → {model_name, model_module, model_module_version, state}.
func states() map[string]any {
	all.Lock()
	models := make([]*model, 0, len(all.models))
	for _, m := range all.models {
		models = append(models, m)
	}
	all.Unlock()
	sort.Slice(models, func(i, j int) bool { return models[i].id < models[j].id })
	out := map[string]any{}
	for _, m := range models {
		st := m.fullState()
		out[m.id] = map[string]any{
			"model_name": st["_model_name"], "model_module": st["_model_module"],
			"model_module_version": st["_model_module_version"], "state": st,
		}
	}
	return out
}

func init() {
	// The front end asks for every state at once when it connects (ipywidgets 8);
	// the control comm answers and stays open until the front end closes it.
	cellrt.RegisterTarget(ControlTarget, func(c cellio.Comm, reply func(cellio.Comm)) func() {
		cellrt.OpenComm(c.ID, ControlTarget, func(c cellio.Comm, reply func(cellio.Comm)) func() {
			if c.Kind == cellio.CommMsg && c.Data["method"] == "request_states" {
				st, paths, bufs := splitBuffers(states())
				reply(cellio.Comm{Kind: cellio.CommMsg, ID: c.ID,
					Data: map[string]any{"method": "update_states", "states": st, "buffer_paths": paths}, Buffers: bufs})
			}
			return nil
		})
		return nil
	})
}

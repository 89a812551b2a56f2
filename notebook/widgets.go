package notebook

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/gocvx/gocvx/cellio"
)

// Jupyter widgets in a headless run. Cells open widget models on comms (target
// "jupyter.widget") and display their views; with no front end to draw them, Run
// keeps the state of every model from the comm messages, as a front end would, and
// writes it into the notebook's metadata in the widget state format (version 2.0),
// so that nbconvert and JupyterLab can draw the widgets of the saved notebook.
// WriteHTML draws each widget view from that state as static HTML: sliders,
// dropdowns, check boxes, buttons, text, labels, progress bars and images as
// disabled form elements, boxes as rows and columns of their children, output areas
// as their outputs.

const (
	widgetTarget   = "jupyter.widget"
	widgetViewMIME = "application/vnd.jupyter.widget-view+json"
	// WidgetStateMIME is the key of the widget state in a notebook's
	// metadata.widgets.
	WidgetStateMIME = "application/vnd.jupyter.widget-state+json"
)

// widgetStates keeps the state of the open widget models: model ID → {model_name,
// model_module, model_module_version, state, buffers}. Comm messages may come from
// any goroutine.
type widgetStates struct {
	mu     sync.Mutex
	models map[string]map[string]any
}

// comm applies a comm message of cell code to the states.
func (w *widgetStates) comm(m cellio.Comm) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.models == nil {
		w.models = map[string]map[string]any{}
	}
	switch m.Kind {
	case cellio.CommOpen:
		st, _ := m.Data["state"].(map[string]any)
		if m.Target != widgetTarget || st == nil {
			return
		}
		entry := map[string]any{
			"model_name": st["_model_name"], "model_module": st["_model_module"],
			"model_module_version": st["_model_module_version"], "state": jsonBundle(st),
		}
		w.models[m.ID] = entry
		setBuffers(entry, m.Data["buffer_paths"], m.Buffers)
	case cellio.CommMsg:
		entry := w.models[m.ID]
		method, _ := m.Data["method"].(string)
		st, _ := m.Data["state"].(map[string]any)
		if entry == nil || st == nil || method != "update" && method != "echo_update" {
			return
		}
		state := entry["state"].(map[string]any)
		for k, v := range jsonBundle(st) {
			state[k] = v
		}
		setBuffers(entry, m.Data["buffer_paths"], m.Buffers)
	case cellio.CommClose:
		delete(w.models, m.ID)
	}
}

// setBuffers records the binary buffers of a message in the saved state's
// buffers list (base64), replacing those of the same paths.
func setBuffers(entry map[string]any, paths any, buffers [][]byte) {
	list, _ := paths.([]any)
	if len(list) == 0 {
		return
	}
	saved, _ := entry["buffers"].([]any)
	for i, p := range list {
		if i >= len(buffers) {
			break
		}
		key := fmt.Sprint(p)
		kept := saved[:0:0]
		for _, b := range saved {
			if fmt.Sprint(b.(map[string]any)["path"]) != key {
				kept = append(kept, b)
			}
		}
		saved = append(kept, map[string]any{"path": p, "data": base64.StdEncoding.EncodeToString(buffers[i]), "encoding": "base64"})
	}
	entry["buffers"] = saved
}

// metadata returns the notebook metadata of the states, nil when there are none.
func (w *widgetStates) metadata() map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.models) == 0 {
		return nil
	}
	state := map[string]any{}
	for id, e := range w.models {
		state[id] = e
	}
	return map[string]any{WidgetStateMIME: map[string]any{"version_major": 2, "version_minor": 0, "state": jsonBundle(state)}}
}

// savedWidgets returns the widget states saved in a notebook's metadata: model ID
// → {model_name, state, buffers}.
func savedWidgets(nb *Notebook) map[string]any {
	w, _ := nb.Metadata["widgets"].(map[string]any)
	s, _ := w[WidgetStateMIME].(map[string]any)
	st, _ := s["state"].(map[string]any)
	return st
}

// widgetHTML draws the view of a model from the saved states as static HTML; ok
// is false when the model is not there.
func widgetHTML(id string, states map[string]any) (string, bool) {
	var b bytes.Buffer
	ok := drawWidget(&b, id, states, 0)
	return b.String(), ok
}

// maxWidgetDepth bounds the nesting of boxes drawn (a saved state could refer to
// itself).
const maxWidgetDepth = 16

func drawWidget(b *bytes.Buffer, id string, states map[string]any, depth int) bool {
	entry, _ := states[strings.TrimPrefix(id, "IPY_MODEL_")].(map[string]any)
	st, _ := entry["state"].(map[string]any)
	if st == nil || depth > maxWidgetDepth {
		return false
	}
	name, _ := entry["model_name"].(string)
	desc := ""
	if d, _ := st["description"].(string); d != "" {
		desc = "<label>" + html.EscapeString(d) + "</label>"
	}
	esc := func(v any) string { return html.EscapeString(str(v)) }
	switch name {
	case "IntSliderModel", "FloatSliderModel", "FloatLogSliderModel":
		value, lo, hi, step := num(st["value"]), num(st["min"]), num(st["max"]), num(st["step"])
		pos := value
		if name == "FloatLogSliderModel" && value > 0 {
			pos = math.Log10(value) / math.Log10(num(st["base"]))
		}
		fmt.Fprintf(b, `<div class="widget slider">%s<input type="range" disabled min="%.12g" max="%.12g" step="%.12g" value="%.12g"><span class="readout">%s</span></div>`,
			desc, lo, hi, step, pos, html.EscapeString(readout(value, str(st["readout_format"]))))
	case "DropdownModel":
		labels, _ := st["_options_labels"].([]any)
		i := int(num(st["index"]))
		chosen := ""
		if st["index"] != nil && i >= 0 && i < len(labels) {
			chosen = str(labels[i])
		}
		fmt.Fprintf(b, `<div class="widget dropdown">%s<select disabled><option>%s</option></select></div>`, desc, html.EscapeString(chosen))
	case "CheckboxModel":
		checked := ""
		if st["value"] == true {
			checked = " checked"
		}
		fmt.Fprintf(b, `<div class="widget checkbox"><input type="checkbox" disabled%s> %s</div>`, checked, esc(st["description"]))
	case "ButtonModel":
		fmt.Fprintf(b, `<div class="widget"><button disabled class="%s">%s</button></div>`, esc(st["button_style"]), esc(st["description"]))
	case "TextModel":
		fmt.Fprintf(b, `<div class="widget text">%s<input type="text" disabled value="%s"></div>`, desc, esc(st["value"]))
	case "LabelModel", "HTMLModel":
		fmt.Fprintf(b, `<div class="widget label">%s<span>%s</span></div>`, desc, esc(st["value"]))
	case "IntProgressModel", "FloatProgressModel":
		fmt.Fprintf(b, `<div class="widget progress">%s<progress max="%g" value="%g"></progress></div>`, desc, num(st["max"])-num(st["min"]), num(st["value"])-num(st["min"]))
	case "ImageModel":
		size := ""
		for _, k := range []string{"width", "height"} {
			if v := str(st[k]); v != "" {
				size += fmt.Sprintf(` %s="%s"`, k, html.EscapeString(v))
			}
		}
		fmt.Fprintf(b, `<div class="widget image"><img alt="image"%s src="data:image/%s;base64,%s"></div>`, size, esc(st["format"]), html.EscapeString(savedBuffer(entry, "value")))
	case "HBoxModel", "VBoxModel", "BoxModel":
		class := "vbox"
		if name == "HBoxModel" {
			class = "hbox"
		}
		fmt.Fprintf(b, `<div class="widget %s">`, class)
		children, _ := st["children"].([]any)
		for _, c := range children {
			drawWidget(b, str(c), states, depth+1)
		}
		b.WriteString("</div>")
	case "OutputModel":
		b.WriteString(`<div class="widget output-area">`)
		outs, _ := st["outputs"].([]any)
		for _, o := range outs {
			if m, ok := o.(map[string]any); ok {
				writeOutputJSON(b, m, states)
			}
		}
		b.WriteString("</div>")
	default:
		fmt.Fprintf(b, `<div class="widget"><pre>%s</pre></div>`, html.EscapeString(strings.TrimSuffix(name, "Model")))
	}
	return true
}

// writeOutputJSON draws an nbformat output kept in an output area's state.
func writeOutputJSON(b *bytes.Buffer, m map[string]any, states map[string]any) {
	o := &Output{Type: str(m["output_type"]), Name: str(m["name"]), Text: str(m["text"]),
		EName: str(m["ename"]), EValue: str(m["evalue"])}
	o.Data, _ = m["data"].(map[string]any)
	o.Metadata, _ = m["metadata"].(map[string]any)
	if tb, ok := m["traceback"].([]any); ok {
		for _, l := range tb {
			o.Traceback = append(o.Traceback, str(l))
		}
	}
	if o.Type == ExecuteResult {
		o.Type = DisplayData
	}
	writeOutput(b, o, states)
}

// savedBuffer returns the base64 data of the buffer at path [key] of a saved state.
func savedBuffer(entry map[string]any, key string) string {
	bufs, _ := entry["buffers"].([]any)
	for _, x := range bufs {
		buf, _ := x.(map[string]any)
		p, _ := buf["path"].([]any)
		if len(p) == 1 && p[0] == key && buf["encoding"] == "base64" {
			return str(buf["data"])
		}
	}
	return ""
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// num returns a JSON number of a saved state (json.Number or float64) as a float.
func num(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case interface{ String() string }:
		f, _ := strconv.ParseFloat(v.String(), 64)
		return f
	}
	return 0
}

// readout formats a slider's value as its d3 format specifier asks, for the
// common ones: "d", ".Nf", ".Ng", ".Ne".
func readout(v float64, format string) string {
	if format == "d" {
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	if len(format) >= 3 && format[0] == '.' {
		if n, err := strconv.Atoi(format[1 : len(format)-1]); err == nil {
			switch format[len(format)-1] {
			case 'f', 'e', 'g':
				return strconv.FormatFloat(v, format[len(format)-1], n, 64)
			}
		}
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// widgetCSS styles the static widgets of the HTML page.
const widgetCSS = `
.widget { display: flex; align-items: center; gap: 0.6em; margin: 0.2em 0; font-size: 0.95em; }
.widget label { min-width: 8em; text-align: right; color: var(--muted); }
.widget input[type=range] { width: 16em; }
.widget .readout { font: 13px "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.widget.hbox { flex-direction: row; flex-wrap: wrap; align-items: flex-start; }
.widget.vbox { flex-direction: column; align-items: stretch; }
.widget.output-area { display: block; }
.widget button.danger { background: #d32f2f; color: #fff; border: 0; padding: 0.3em 1em; border-radius: 3px; }
`

package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gocvx/gocvx/cellio"
)

// TestRunSavesWidgetState checks that a headless run keeps the widget models that
// cells open and change, writes their last state (binary buffers in base64) into
// the notebook's metadata as the widget state format says, and that the HTML page
// draws the views from it: a box of a slider and an output area with a figure.
func TestRunSavesWidgetState(t *testing.T) {
	open := func(out cellio.Output, id string, state map[string]any, paths []any, bufs ...[]byte) {
		out.(cellio.CommOutput).Comm(cellio.Comm{Kind: cellio.CommOpen, ID: id, Target: "jupyter.widget",
			Data: map[string]any{"state": state, "buffer_paths": paths}, Buffers: bufs})
	}
	e := &scriptEngine{scripts: map[string]func(cellio.Output) cellio.Outcome{
		"widgets": func(out cellio.Output) cellio.Outcome {
			open(out, "s1", map[string]any{"_model_name": "FloatLogSliderModel", "_model_module": "@jupyter-widgets/controls",
				"_model_module_version": "2.0.0", "description": "β", "value": 0.01, "min": -4.0, "max": 0.0, "step": 0.1,
				"base": 10.0, "readout_format": ".3g"}, []any{})
			open(out, "o1", map[string]any{"_model_name": "OutputModel", "_model_module": "@jupyter-widgets/output",
				"_model_module_version": "1.0.0", "outputs": []any{}}, []any{})
			open(out, "i1", map[string]any{"_model_name": "ImageModel", "_model_module": "@jupyter-widgets/controls",
				"_model_module_version": "2.0.0", "format": "png"}, []any{[]any{"value"}}, []byte("PNG"))
			open(out, "b1", map[string]any{"_model_name": "VBoxModel", "_model_module": "@jupyter-widgets/controls",
				"_model_module_version": "2.0.0", "children": []any{"IPY_MODEL_s1", "IPY_MODEL_o1", "IPY_MODEL_i1"}}, []any{})
			out.(cellio.CommOutput).Comm(cellio.Comm{Kind: cellio.CommMsg, ID: "o1", Data: map[string]any{"method": "update",
				"state": map[string]any{"outputs": []any{map[string]any{"output_type": "display_data",
					"data": map[string]any{"image/png": "iVBORw0KGgo=", "text/plain": "figure"}, "metadata": map[string]any{}}}}}})
			out.(cellio.CommOutput).Comm(cellio.Comm{Kind: cellio.CommMsg, ID: "s1", Data: map[string]any{"method": "update",
				"state": map[string]any{"value": 0.1}}})
			out.Display(cellio.Bundle{Data: map[string]any{
				"application/vnd.jupyter.widget-view+json": map[string]any{"model_id": "b1", "version_major": 2, "version_minor": 1},
				"text/plain": "VBox(children=3)"}}, "", false)
			return cellio.Outcome{}
		},
	}}
	nb := codeCells("widgets")
	nb.Metadata = map[string]any{}
	if err := Run(context.Background(), nb, e, Options{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, nb); err != nil {
		t.Fatal(err)
	}
	var file struct {
		Metadata struct {
			Widgets map[string]struct {
				VersionMajor int                       `json:"version_major"`
				VersionMinor int                       `json:"version_minor"`
				State        map[string]map[string]any `json:"state"`
			} `json:"widgets"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(buf.Bytes(), &file); err != nil {
		t.Fatal(err)
	}
	ws := file.Metadata.Widgets[WidgetStateMIME]
	if ws.VersionMajor != 2 || ws.VersionMinor != 0 || len(ws.State) != 4 {
		t.Fatalf("widget state: %+v", ws)
	}
	slider := ws.State["s1"]
	if slider["model_name"] != "FloatLogSliderModel" || slider["model_module"] != "@jupyter-widgets/controls" ||
		slider["state"].(map[string]any)["value"] != 0.1 {
		t.Errorf("slider = %v", slider)
	}
	bufs := ws.State["i1"]["buffers"].([]any)
	if b := bufs[0].(map[string]any); len(bufs) != 1 || b["data"] != "UE5H" || b["encoding"] != "base64" {
		t.Errorf("image buffers = %v", bufs)
	}

	var page bytes.Buffer
	if err := WriteHTML(&page, nb, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	h := page.String()
	for _, want := range []string{
		`<div class="widget vbox">`, `<label>β</label><input type="range" disabled min="-4" max="0" step="0.1" value="-1">`,
		`<span class="readout">0.1</span>`, `src="data:image/png;base64,iVBORw0KGgo="`, `src="data:image/png;base64,UE5H"`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(h, "VBox(children=3)") {
		t.Error("the page shows the text of the view instead of the widgets")
	}
}

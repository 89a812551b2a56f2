package widget

import (
	"fmt"
	"os"
	"reflect"
	"sync"

	"github.com/gocvx/gocvx/internal/cellrt"
)

// Widget is any widget of this package: it can be shown (display.Show, or as a
// cell's value) and put in a box.
type Widget interface {
	ModelID() string
	base() *model
}

// Control is a widget whose value the user changes in the front end: IntSlider,
// FloatSlider, FloatLogSlider, Dropdown, Checkbox, Text. Interact calls its function
// with the values of its controls.
type Control interface {
	Widget
	// value returns the control's value as the Go type its Observe passes.
	value() reflect.Value
	// observed returns what it keeps to call its observers.
	observed() *observable
}

// dom is what every visible widget has: a layout model (CSS properties of its
// box) and, for most, a style model.
type dom struct {
	*model
	layout *model
	style  *model
}

// layoutKeys are the CSS properties of a LayoutModel, all unset (null) at first.
var layoutKeys = []string{
	"align_content", "align_items", "align_self", "border_bottom", "border_left", "border_right",
	"border_top", "bottom", "display", "flex", "flex_flow", "grid_area", "grid_auto_columns",
	"grid_auto_flow", "grid_auto_rows", "grid_column", "grid_gap", "grid_row", "grid_template_areas",
	"grid_template_columns", "grid_template_rows", "height", "justify_content", "justify_items", "left",
	"margin", "max_height", "max_width", "min_height", "min_width", "object_fit", "object_position",
	"order", "overflow", "padding", "right", "top", "visibility", "width",
}

// newDOM opens the layout model, the style model (styleName, with its keys, none
// when styleName is empty) and then the widget's model, whose state gets the
// references to both and the keys every DOM widget has.
func newDOM(name, view, module, version string, styleName string, styleState, state map[string]any) dom {
	lst := map[string]any{}
	for _, k := range layoutKeys {
		lst[k] = nil
	}
	d := dom{layout: newModel("LayoutModel", baseModule, baseVersion, "LayoutView", baseModule, baseVersion, lst)}
	state["layout"] = d.layout.ref()
	if styleName != "" {
		d.style = newModel(styleName, controlsModule, controlsVer, "StyleView", baseModule, baseVersion, styleState)
		state["style"] = d.style.ref()
	}
	state["_dom_classes"] = []any{}
	state["tabbable"] = nil
	state["tooltip"] = nil
	d.model = newModel(name, module, version, view, module, version, state)
	return d
}

// describedState returns the keys of a control with a description, and the
// given ones.
func describedState(description string, keys map[string]any) map[string]any {
	keys["description"] = description
	keys["description_allow_html"] = false
	return keys
}

// SetLayout sets a CSS property of the widget's box, by the LayoutModel's name
// ("width", "height", "margin", "border_top", "flex_flow", …, with underscores);
// an empty value unsets it. An unknown property is ignored with a notice on
// standard error.
func (d dom) SetLayout(property, value string) {
	if !validKey(d.layout, property, "layout") {
		return
	}
	var v any = value
	if value == "" {
		v = nil
	}
	d.layout.set(map[string]any{property: v})
}

// SetStyle sets a property of the widget's style model: "description_width" (for
// example "initial", to show a long description in full), and those of the
// control ("handle_color" of sliders, "button_color" and "font_weight" of buttons,
// "bar_color" of progress bars, …). An unknown property, or a widget without
// style, is ignored with a notice on standard error.
func (d dom) SetStyle(property, value string) {
	if d.style == nil {
		fmt.Fprintf(os.Stderr, "widget: %s has no style\n", d.name)
		return
	}
	if !validKey(d.style, property, "style") {
		return
	}
	d.style.set(map[string]any{property: value})
}

// SetTooltip sets the text shown when the pointer rests on the widget.
func (d dom) SetTooltip(text string) { d.set(map[string]any{"tooltip": text}) }

func validKey(m *model, key, what string) bool {
	m.mu.Lock()
	_, ok := m.state[key]
	m.mu.Unlock()
	if !ok || len(key) > 0 && key[0] == '_' {
		fmt.Fprintf(os.Stderr, "widget: %s has no property %q\n", what, key)
		return false
	}
	return true
}

// Callbacks.

// observer is a function of cell code that a control calls when its value
// changes, registered in an epoch of the engine (an interpreter of it, see
// cellrt.Epoch).
type observer struct {
	epoch    uint64
	call     func()
	reported bool // the notice that it no longer runs was given
}

// observable is what a control with a value keeps to call its observers: the
// key of the value and its value when they were called last.
type observable struct {
	mu        sync.Mutex
	key       string
	notified  any
	observers []*observer
}

// observe registers f, to be called when the value changes.
func (m *model) observe(o *observable, f func()) {
	o.mu.Lock()
	o.observers = append(o.observers, &observer{epoch: epochNow(), call: f})
	o.mu.Unlock()
	m.mu.Lock()
	m.react = func() { m.notify(o, true) }
	m.mu.Unlock()
}

// notify calls the observers if the value changed since they were called last.
// For a change the front end made (fromFront), they run between cells with their
// output going to the widget's cell, a panic reported there and the rest of them
// skipped after an interrupt; for a change cell code made, they run in its
// goroutine as plain calls.
func (m *model) notify(o *observable, fromFront bool) {
	v := m.get(o.key)
	o.mu.Lock()
	if reflect.DeepEqual(v, o.notified) {
		o.mu.Unlock()
		return
	}
	o.notified = v
	obs := append([]*observer(nil), o.observers...)
	o.mu.Unlock()
	for _, ob := range obs {
		if !fromFront {
			ob.call()
			continue
		}
		if !m.callFromFront(ob) {
			return
		}
	}
}

// callFromFront runs an observer for a change of the front end; it reports false
// when the callbacks were interrupted.
func (m *model) callFromFront(ob *observer) (goOn bool) {
	if home := m.homeOutput(); home != nil {
		defer cellrt.Redirect(home)()
	}
	if ob.epoch != cellrt.Epoch() {
		if !ob.reported {
			ob.reported = true
			notice(fmt.Sprintf("[gocvx: a callback of %s belongs to the interpreter that a redefinition replaced (the cells were replayed in a new one); run the cell that made the widget again]\n", m.name))
		}
		return true
	}
	stopped := func() bool {
		if !interrupted() {
			return false
		}
		notice(fmt.Sprintf("[gocvx: the callback of %s was interrupted]\n", m.name))
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			// A panic of a callback that the interrupt cut short is the
			// interrupt's doing (a channel operation it woke returns no value).
			if goOn = !stopped(); goOn {
				cellrt.ReportPanic(r)
			}
		}
	}()
	ob.call()
	return !stopped()
}

// interrupted reports whether the callbacks running now were interrupted.
func interrupted() bool { return cellrt.Context().Err() != nil || cellrt.Stopped() }

// epochNow is the engine's epoch when a callback is registered.
func epochNow() uint64 { return cellrt.Epoch() }

// notice writes text to standard error of where the running code's output goes.
func notice(text string) {
	if out := cellrt.Current(); out != nil {
		out.Stream("stderr", text)
		return
	}
	fmt.Fprint(os.Stderr, text)
}

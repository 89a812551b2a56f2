package widget

import (
	"context"
	"reflect"
	"sync"
)

// Dropdown chooses one of a list of options (DropdownModel, DropdownView).
type Dropdown struct {
	dom
	obs     observable
	options []string
}

// NewDropdown returns a dropdown labelled description offering options, with
// the option at index chosen (index is moved into the list; an empty list chooses
// nothing and its value is "").
func NewDropdown(description string, options []string, index int) *Dropdown {
	labels := make([]any, len(options))
	for i, o := range options {
		labels[i] = o
	}
	var idx any
	if len(options) > 0 {
		idx = clampInt(index, 0, len(options)-1)
	}
	d := &Dropdown{obs: observable{key: "index", notified: idx}, options: append([]string(nil), options...)}
	d.dom = newDOM("DropdownModel", "DropdownView", controlsModule, controlsVer, "DescriptionStyleModel",
		map[string]any{"description_width": ""},
		describedState(description, map[string]any{"_options_labels": labels, "index": idx, "disabled": false}))
	d.allow("index", func(v any) (any, bool) {
		if v == nil {
			return nil, len(d.options) == 0
		}
		n, ok := toInt(v)
		return n, ok && n >= 0 && n < len(d.options)
	})
	return d
}

// Index returns the index of the chosen option, −1 when the list is empty.
func (d *Dropdown) Index() int {
	n, ok := toInt(d.get("index"))
	if !ok {
		return -1
	}
	return n
}

// Value returns the chosen option, "" when the list is empty.
func (d *Dropdown) Value() string {
	if i := d.Index(); i >= 0 {
		return d.options[i]
	}
	return ""
}

func (d *Dropdown) value() reflect.Value { return reflect.ValueOf(d.Value()) }

// SetIndex chooses the option at index i (moved into the list) and calls the
// observers if the choice changed.
func (d *Dropdown) SetIndex(i int) {
	if len(d.options) == 0 {
		return
	}
	d.set(map[string]any{"index": clampInt(i, 0, len(d.options)-1)})
	d.notify(&d.obs, false)
}

// SetValue chooses the option equal to v, if there is one, and reports whether
// there was.
func (d *Dropdown) SetValue(v string) bool {
	for i, o := range d.options {
		if o == v {
			d.SetIndex(i)
			return true
		}
	}
	return false
}

// Observe registers f, called with the chosen option whenever the choice changes
// (see IntSlider.Observe).
func (d *Dropdown) Observe(f func(value string)) { d.observe(&d.obs, func() { f(d.Value()) }) }

// Checkbox is a check box (CheckboxModel, CheckboxView).
type Checkbox struct {
	dom
	obs observable
}

// NewCheckbox returns a check box labelled description, checked if value is true.
func NewCheckbox(description string, value bool) *Checkbox {
	c := &Checkbox{obs: observable{key: "value", notified: value}}
	c.dom = newDOM("CheckboxModel", "CheckboxView", controlsModule, controlsVer, "CheckboxStyleModel",
		map[string]any{"description_width": "", "background": nil},
		describedState(description, map[string]any{"value": value, "disabled": false, "indent": true}))
	c.allow("value", func(v any) (any, bool) { b, ok := v.(bool); return b, ok })
	return c
}

// Value reports whether the box is checked.
func (c *Checkbox) Value() bool { b, _ := c.get("value").(bool); return b }

func (c *Checkbox) value() reflect.Value { return reflect.ValueOf(c.Value()) }

// SetValue checks or clears the box and calls the observers if that changed it.
func (c *Checkbox) SetValue(v bool) {
	c.set(map[string]any{"value": v})
	c.notify(&c.obs, false)
}

// Observe registers f, called with the new value whenever it changes (see
// IntSlider.Observe).
func (c *Checkbox) Observe(f func(value bool)) { c.observe(&c.obs, func() { f(c.Value()) }) }

// Text is a line of text that the user edits (TextModel, TextView).
type Text struct {
	dom
	obs observable
}

// NewText returns a text field labelled description holding value. The front end
// sends the text as it is typed; SetContinuous(false) sends it when the user
// presses Enter or leaves the field.
func NewText(description, value string) *Text {
	t := &Text{obs: observable{key: "value", notified: value}}
	t.dom = newDOM("TextModel", "TextView", controlsModule, controlsVer, "TextStyleModel",
		map[string]any{"description_width": "", "background": nil, "font_size": nil, "text_color": nil},
		describedState(description, map[string]any{"value": value, "disabled": false, "continuous_update": true, "placeholder": "\u200b"}))
	t.allow("value", func(v any) (any, bool) { s, ok := v.(string); return s, ok })
	return t
}

// Value returns the text.
func (t *Text) Value() string { s, _ := t.get("value").(string); return s }

func (t *Text) value() reflect.Value { return reflect.ValueOf(t.Value()) }

// SetValue replaces the text and calls the observers if it changed.
func (t *Text) SetValue(v string) {
	t.set(map[string]any{"value": v})
	t.notify(&t.obs, false)
}

// SetContinuous sets whether the front end sends the text at every key stroke
// (true, the default) or only when the user presses Enter or leaves the field.
func (t *Text) SetContinuous(on bool) { t.set(map[string]any{"continuous_update": on}) }

// Observe registers f, called with the new text whenever it changes (see
// IntSlider.Observe).
func (t *Text) Observe(f func(value string)) { t.observe(&t.obs, func() { f(t.Value()) }) }

// SetDisabled makes the control read-only in the front end (or editable again).
func (d dom) SetDisabled(disabled bool) {
	if d.has("disabled") {
		d.set(map[string]any{"disabled": disabled})
	}
}

// SetDescription sets the label shown beside the widget.
func (d dom) SetDescription(text string) {
	if d.has("description") {
		d.set(map[string]any{"description": text})
	}
}

// Button is a push button (ButtonModel, ButtonView). OnClick callbacks run
// between cells, like the observers of the controls; Context gives a context that
// a click cancels at once, even while a cell runs, to stop a long computation.
type Button struct {
	dom
	mu      sync.Mutex
	clicks  int // clicks whose callbacks have not run yet
	onClick []*observer
	cancels map[int]context.CancelFunc
	next    int
}

// NewButton returns a button labelled description.
func NewButton(description string) *Button {
	b := &Button{cancels: map[int]context.CancelFunc{}}
	b.dom = newDOM("ButtonModel", "ButtonView", controlsModule, controlsVer, "ButtonStyleModel",
		map[string]any{"button_color": nil, "font_family": nil, "font_size": nil, "font_style": nil,
			"font_variant": nil, "font_weight": nil, "text_color": nil, "text_decoration": nil},
		map[string]any{"description": description, "button_style": "", "disabled": false, "icon": ""})
	b.custom = b.clicked
	b.react = b.runClicks
	return b
}

// SetButtonStyle sets one of the predefined looks: "primary", "success", "info",
// "warning", "danger", or "" (the default).
func (b *Button) SetButtonStyle(style string) { b.set(map[string]any{"button_style": style}) }

// SetIcon sets a Font Awesome icon shown before the label, by name without the
// "fa-" prefix ("stop", "play", "refresh").
func (b *Button) SetIcon(name string) { b.set(map[string]any{"icon": name}) }

// OnClick registers f, called once for every click (between cells; clicks made
// while a cell runs are counted and their callbacks run after it).
func (b *Button) OnClick(f func()) {
	b.mu.Lock()
	b.onClick = append(b.onClick, &observer{epoch: epochNow(), call: f})
	b.mu.Unlock()
}

// Click does what a click in the front end does, from cell code: it cancels the
// button's contexts and calls the OnClick callbacks in the calling goroutine.
func (b *Button) Click() {
	b.cancelAll()
	b.mu.Lock()
	obs := append([]*observer(nil), b.onClick...)
	b.mu.Unlock()
	for _, ob := range obs {
		ob.call()
	}
}

// Context returns a context derived from parent that is cancelled as soon as the
// button is clicked, even while a cell runs (the click is handled as it arrives,
// without waiting for the cell), or when parent is done. Pass it to a long call
// (solver.Solve, display.SolveLive) to give it a Stop button; cancel releases the
// context when the call returned.
func (b *Button) Context(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := context.WithCancel(parent)
	b.mu.Lock()
	id := b.next
	b.next++
	b.cancels[id] = stop
	b.mu.Unlock()
	return ctx, func() {
		b.mu.Lock()
		delete(b.cancels, id)
		b.mu.Unlock()
		stop()
	}
}

func (b *Button) cancelAll() {
	b.mu.Lock()
	cancels := b.cancels
	b.cancels = map[int]context.CancelFunc{}
	b.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// clicked handles a custom message of the front end as it arrives: a click
// cancels the contexts at once and counts for the callbacks.
func (b *Button) clicked(content map[string]any) func() {
	if content["event"] != "click" {
		return nil
	}
	b.cancelAll()
	b.mu.Lock()
	b.clicks++
	b.mu.Unlock()
	return b.schedule()
}

// runClicks calls the OnClick callbacks once for each click counted.
func (b *Button) runClicks() {
	for {
		b.mu.Lock()
		if b.clicks == 0 {
			b.mu.Unlock()
			return
		}
		b.clicks--
		obs := append([]*observer(nil), b.onClick...)
		b.mu.Unlock()
		for _, ob := range obs {
			if !b.callFromFront(ob) {
				b.mu.Lock()
				b.clicks = 0
				b.mu.Unlock()
				return
			}
		}
	}
}

package widget

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/gocvx/gocvx/display"
)

// Interactive is what Interact returns: the controls above an Output that shows
// the results of the function, redrawn when a control changes.
type Interactive struct {
	dom
	out      *Output
	f        reflect.Value
	controls []Control

	mu   sync.Mutex
	last []any // the values of the controls at the last call
	ran  bool
}

// Interact calls f with the values of the controls, in order, and shows what it
// returns (a plot, a table, any value display.Render renders; a non-nil error as
// text) in an output area below the controls, replaced whenever a control changes:
// f runs between cells for a change in the front end, with the latest values when
// the user moves a slider faster than f runs (changes made meanwhile are not
// queued: the latest value wins). What f prints and displays goes to the area too.
//
// f is a function whose parameters take the controls' values: int for an
// IntSlider, float64 for a FloatSlider or FloatLogSlider, string for a Dropdown or
// a Text, bool for a Checkbox (or types these convert to). f is called once now,
// so the area is drawn before the cell ends. A function that does not fit is
// reported in the area, and never called.
func Interact(f any, controls ...Control) *Interactive {
	in := &Interactive{out: NewOutput(), controls: controls, f: reflect.ValueOf(f)}
	children := make([]Widget, 0, len(controls)+1)
	for _, c := range controls {
		if c != nil {
			children = append(children, c)
		}
	}
	children = append(children, in.out)
	st, models := boxState(children)
	in.dom = newDOM("VBoxModel", "VBoxView", controlsModule, controlsVer, "", nil, st)
	in.children = models
	if err := in.check(); err != nil {
		in.out.Redraw(func() { notice(err.Error() + "\n") })
		return in
	}
	for _, c := range controls {
		c.base().observe(c.observed(), in.update)
	}
	in.update()
	return in
}

// Output returns the area that shows the results.
func (in *Interactive) Output() *Output { return in.out }

// Update calls the function again with the current values, even if they did not
// change, and redraws the area.
func (in *Interactive) Update() {
	in.mu.Lock()
	in.ran = false
	in.mu.Unlock()
	in.update()
}

// check reports whether f can take the values of the controls.
func (in *Interactive) check() error {
	f := in.f
	if !f.IsValid() || f.Kind() != reflect.Func || f.IsNil() {
		return fmt.Errorf("widget.Interact: the first argument must be a function, not %T", in.f)
	}
	t := f.Type()
	if t.IsVariadic() || t.NumIn() != len(in.controls) {
		return fmt.Errorf("widget.Interact: the function takes %d parameters (%s) for %d controls", t.NumIn(), t, len(in.controls))
	}
	for i, c := range in.controls {
		if c == nil {
			return fmt.Errorf("widget.Interact: control %d is nil", i+1)
		}
		if vt, pt := c.value().Type(), t.In(i); !vt.AssignableTo(pt) && !(vt.Kind() == pt.Kind() || numeric(vt) && numeric(pt)) {
			return fmt.Errorf("widget.Interact: parameter %d of %s is %s, but the %s gives %s", i+1, t, pt, c.base().name, vt)
		}
	}
	return nil
}

// numeric reports whether values of t are numbers (ints convert to floats and
// back; an int never becomes a string).
func numeric(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// update calls f if the values changed since the last call, and redraws the area
// with its results.
func (in *Interactive) update() {
	t := in.f.Type()
	args := make([]reflect.Value, len(in.controls))
	key := make([]any, len(in.controls))
	for i, c := range in.controls {
		v := c.value()
		key[i] = v.Interface()
		if !v.Type().AssignableTo(t.In(i)) {
			v = v.Convert(t.In(i))
		}
		args[i] = v
	}
	in.mu.Lock()
	if in.ran && reflect.DeepEqual(key, in.last) {
		in.mu.Unlock()
		return
	}
	in.last, in.ran = key, true
	in.mu.Unlock()
	in.out.Redraw(func() {
		for _, r := range in.f.Call(args) {
			show(r)
		}
	})
}

// show displays a result of the function: nothing for a nil value (a nil error),
// an error as text on standard error, anything else as display.Show does.
func show(r reflect.Value) {
	if !r.IsValid() || (r.Kind() == reflect.Interface || r.Kind() == reflect.Pointer || r.Kind() == reflect.Map ||
		r.Kind() == reflect.Slice || r.Kind() == reflect.Func) && r.IsNil() {
		return
	}
	v := r.Interface()
	if err, ok := v.(error); ok {
		notice(err.Error() + "\n")
		return
	}
	display.Show(v)
}

// observed returns what the control keeps to call its observers.
func (s *IntSlider) observed() *observable      { return &s.obs }
func (s *FloatSlider) observed() *observable    { return &s.obs }
func (s *FloatLogSlider) observed() *observable { return &s.obs }
func (d *Dropdown) observed() *observable       { return &d.obs }
func (c *Checkbox) observed() *observable       { return &c.obs }
func (t *Text) observed() *observable           { return &t.obs }

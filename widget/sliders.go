package widget

import (
	"math"
	"reflect"
)

// sliderState returns the keys that the three sliders share.
func sliderState(description string, keys map[string]any) map[string]any {
	keys["behavior"] = "drag-tap"
	keys["continuous_update"] = true
	keys["disabled"] = false
	keys["orientation"] = "horizontal"
	keys["readout"] = true
	return describedState(description, keys)
}

var sliderStyle = func() map[string]any { return map[string]any{"description_width": "", "handle_color": nil} }

// toFloat converts a JSON number of the front end; ok is false for anything else.
func toFloat(v any) (float64, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case float64:
		f, ok := toFloat(v)
		if !ok || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int(math.Round(f)), true
	}
	return 0, false
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }
func clampF(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return max(lo, min(v, hi))
}

// IntSlider is a slider of integers (IntSliderModel, IntSliderView).
type IntSlider struct {
	dom
	obs observable
}

// NewIntSlider returns a slider labelled description that moves between lo and hi
// (both included) in steps of 1, at value. If lo > hi they are swapped; value is
// moved into the range.
func NewIntSlider(description string, value, lo, hi int) *IntSlider {
	if lo > hi {
		lo, hi = hi, lo
	}
	value = clampInt(value, lo, hi)
	s := &IntSlider{obs: observable{key: "value", notified: value}}
	s.dom = newDOM("IntSliderModel", "IntSliderView", controlsModule, controlsVer, "SliderStyleModel", sliderStyle(),
		sliderState(description, map[string]any{"value": value, "min": lo, "max": hi, "step": 1, "readout_format": "d"}))
	s.allow("value", func(v any) (any, bool) {
		n, ok := toInt(v)
		if !ok {
			return nil, false
		}
		lo, hi := s.bounds()
		return clampInt(n, lo, hi), true
	})
	return s
}

func (s *IntSlider) bounds() (lo, hi int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state["min"].(int), s.state["max"].(int)
}

// Value returns the slider's value.
func (s *IntSlider) Value() int {
	n, _ := toInt(s.get("value"))
	return n
}

func (s *IntSlider) value() reflect.Value { return reflect.ValueOf(s.Value()) }

// SetValue moves the slider to v (into its range) and calls the observers if the
// value changed.
func (s *IntSlider) SetValue(v int) {
	lo, hi := s.bounds()
	s.set(map[string]any{"value": clampInt(v, lo, hi)})
	s.notify(&s.obs, false)
}

// SetStep sets the step of the slider (at least 1).
func (s *IntSlider) SetStep(step int) { s.set(map[string]any{"step": max(step, 1)}) }

// Observe registers f, called with the new value whenever it changes: in the
// front end (between cells, with the latest value when the user drags faster than
// f runs) or by SetValue.
func (s *IntSlider) Observe(f func(value int)) { s.observe(&s.obs, func() { f(s.Value()) }) }

// FloatSlider is a slider of real numbers (FloatSliderModel, FloatSliderView).
type FloatSlider struct {
	dom
	obs observable
}

// NewFloatSlider returns a slider labelled description between lo and hi, in
// steps of step (positive; zero or less means (hi−lo)/100), at value. If lo > hi
// they are swapped; value is moved into the range.
func NewFloatSlider(description string, value, lo, hi, step float64) *FloatSlider {
	if lo > hi {
		lo, hi = hi, lo
	}
	if !(step > 0) {
		step = (hi - lo) / 100
	}
	value = clampF(value, lo, hi)
	s := &FloatSlider{obs: observable{key: "value", notified: value}}
	s.dom = newDOM("FloatSliderModel", "FloatSliderView", controlsModule, controlsVer, "SliderStyleModel", sliderStyle(),
		sliderState(description, map[string]any{"value": value, "min": lo, "max": hi, "step": step, "readout_format": ".2f"}))
	s.allow("value", func(v any) (any, bool) {
		f, ok := toFloat(v)
		if !ok {
			return nil, false
		}
		lo, hi := s.bounds()
		return clampF(f, lo, hi), true
	})
	return s
}

func (s *FloatSlider) bounds() (lo, hi float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state["min"].(float64), s.state["max"].(float64)
}

// Value returns the slider's value.
func (s *FloatSlider) Value() float64 {
	f, _ := toFloat(s.get("value"))
	return f
}

func (s *FloatSlider) value() reflect.Value { return reflect.ValueOf(s.Value()) }

// SetValue moves the slider to v (into its range) and calls the observers if the
// value changed.
func (s *FloatSlider) SetValue(v float64) {
	lo, hi := s.bounds()
	s.set(map[string]any{"value": clampF(v, lo, hi)})
	s.notify(&s.obs, false)
}

// SetReadout sets how the value is written beside the slider, a d3-format
// specifier: ".2f" (the default), ".3g", ".1e", ".0%".
func (s *FloatSlider) SetReadout(format string) { s.set(map[string]any{"readout_format": format}) }

// Observe registers f, called with the new value whenever it changes (see
// IntSlider.Observe).
func (s *FloatSlider) Observe(f func(value float64)) { s.observe(&s.obs, func() { f(s.Value()) }) }

// FloatLogSlider is a slider on a logarithmic scale (FloatLogSliderModel): equal
// moves multiply the value by equal factors, as a regularization weight β or a
// step size is best explored. The front end moves an exponent e between the
// exponents of lo and hi in steps of 0.1 and shows 10^e.
type FloatLogSlider struct {
	dom
	obs observable
}

// NewFloatLogSlider returns a log-scale slider labelled description between lo
// and hi (positive; swapped if lo > hi), at value, moved into the range. The
// exponent moves in steps of 0.1: ten positions per factor of 10. A bound that is
// not positive is replaced by 1e-300 (the slider then spans many decades).
func NewFloatLogSlider(description string, value, lo, hi float64) *FloatLogSlider {
	if !(lo > 0) {
		lo = 1e-300
	}
	if !(hi > 0) {
		hi = 1e-300
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	value = clampF(value, lo, hi)
	s := &FloatLogSlider{obs: observable{key: "value", notified: value}}
	s.dom = newDOM("FloatLogSliderModel", "FloatLogSliderView", controlsModule, controlsVer, "SliderStyleModel", sliderStyle(),
		sliderState(description, map[string]any{"value": value, "min": math.Log10(lo), "max": math.Log10(hi),
			"step": 0.1, "base": 10.0, "readout_format": ".3g"}))
	s.allow("value", func(v any) (any, bool) {
		f, ok := toFloat(v)
		if !ok || f <= 0 {
			return nil, false
		}
		lo, hi := s.bounds()
		return clampF(f, lo, hi), true
	})
	return s
}

// bounds returns the values at the ends of the slider.
func (s *FloatLogSlider) bounds() (lo, hi float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return math.Pow(10, s.state["min"].(float64)), math.Pow(10, s.state["max"].(float64))
}

// Value returns the slider's value.
func (s *FloatLogSlider) Value() float64 {
	f, _ := toFloat(s.get("value"))
	return f
}

func (s *FloatLogSlider) value() reflect.Value { return reflect.ValueOf(s.Value()) }

// SetValue moves the slider to v (into its range) and calls the observers if the
// value changed.
func (s *FloatLogSlider) SetValue(v float64) {
	lo, hi := s.bounds()
	s.set(map[string]any{"value": clampF(v, lo, hi)})
	s.notify(&s.obs, false)
}

// SetStep sets the step of the exponent (0.1 by default; 1 moves by factors of 10).
func (s *FloatLogSlider) SetStep(step float64) {
	if step > 0 {
		s.set(map[string]any{"step": step})
	}
}

// Observe registers f, called with the new value whenever it changes (see
// IntSlider.Observe).
func (s *FloatLogSlider) Observe(f func(value float64)) { s.observe(&s.obs, func() { f(s.Value()) }) }

package widget

// Label shows a line of text (LabelModel, LabelView). Cell code changes it; the
// user does not.
type Label struct{ dom }

// NewLabel returns a label showing text.
func NewLabel(text string) *Label {
	return &Label{newDOM("LabelModel", "LabelView", controlsModule, controlsVer, "LabelStyleModel",
		map[string]any{"background": nil, "description_width": "", "font_family": nil, "font_size": nil,
			"font_style": nil, "font_variant": nil, "font_weight": nil, "text_color": nil, "text_decoration": nil},
		describedState("", map[string]any{"value": text, "placeholder": "\u200b"}))}
}

// Value returns the text shown.
func (l *Label) Value() string { s, _ := l.get("value").(string); return s }

// SetValue replaces the text shown.
func (l *Label) SetValue(text string) { l.set(map[string]any{"value": text}) }

// IntProgress is a progress bar (IntProgressModel, ProgressView).
type IntProgress struct{ dom }

// NewIntProgress returns a progress bar labelled description from 0 to total
// (at least 1), at 0.
func NewIntProgress(description string, total int) *IntProgress {
	return &IntProgress{newDOM("IntProgressModel", "ProgressView", controlsModule, controlsVer, "ProgressStyleModel",
		map[string]any{"bar_color": nil, "description_width": ""},
		describedState(description, map[string]any{"value": 0, "min": 0, "max": max(total, 1),
			"bar_style": "", "orientation": "horizontal"}))}
}

// Value returns how far the bar is.
func (p *IntProgress) Value() int { n, _ := toInt(p.get("value")); return n }

// SetValue moves the bar to v (into 0…total).
func (p *IntProgress) SetValue(v int) {
	hi, _ := toInt(p.get("max"))
	p.set(map[string]any{"value": clampInt(v, 0, hi)})
}

// SetBarStyle sets one of the predefined looks of the bar: "success", "info",
// "warning", "danger", or "" (the default).
func (p *IntProgress) SetBarStyle(style string) { p.set(map[string]any{"bar_style": style}) }

// Image shows an image from its encoded bytes (ImageModel, ImageView), sent as a
// binary buffer, without base64.
type Image struct{ dom }

// NewImage returns an image widget showing data, an encoded image of the given
// format ("png", "jpeg", "gif", "svg+xml"). A front end may replace the image (its
// value arrives as a binary buffer).
func NewImage(data []byte, format string) *Image {
	i := &Image{newDOM("ImageModel", "ImageView", controlsModule, controlsVer, "", nil,
		map[string]any{"value": append([]byte(nil), data...), "format": format, "width": "", "height": ""})}
	i.allow("value", func(v any) (any, bool) { b, ok := v.([]byte); return b, ok })
	return i
}

// SetValue replaces the image by data, an encoded image of the widget's format.
func (i *Image) SetValue(data []byte) { i.set(map[string]any{"value": append([]byte(nil), data...)}) }

// Value returns the encoded image shown.
func (i *Image) Value() []byte { b, _ := i.get("value").([]byte); return append([]byte(nil), b...) }

// SetSize sets the width and height of the image on the page, in CSS pixels as
// text ("400"); empty keeps the image's own.
func (i *Image) SetSize(width, height string) {
	i.set(map[string]any{"width": width, "height": height})
}

// boxState opens nothing: it returns the state of a box showing children and
// their models.
func boxState(children []Widget) (map[string]any, []*model) {
	refs := make([]any, 0, len(children))
	var models []*model
	for _, c := range children {
		if c == nil || c.base() == nil {
			continue
		}
		refs = append(refs, c.base().ref())
		models = append(models, c.base())
	}
	return map[string]any{"children": refs, "box_style": ""}, models
}

// HBox shows widgets side by side (HBoxModel, HBoxView).
type HBox struct{ dom }

// NewHBox returns a box showing children side by side.
func NewHBox(children ...Widget) *HBox {
	st, models := boxState(children)
	b := &HBox{newDOM("HBoxModel", "HBoxView", controlsModule, controlsVer, "", nil, st)}
	b.children = models
	return b
}

// VBox shows widgets one above the other (VBoxModel, VBoxView).
type VBox struct{ dom }

// NewVBox returns a box showing children one above the other.
func NewVBox(children ...Widget) *VBox {
	st, models := boxState(children)
	b := &VBox{newDOM("VBoxModel", "VBoxView", controlsModule, controlsVer, "", nil, st)}
	b.children = models
	return b
}

package display

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ImageRow is one row of an image grid: square grey images given as pixel values in
// row-major order (a 10×10 MNIST digit is 100 values), with a row label drawn to the
// left and optional captions (e.g. the predicted class) drawn under each image.
type ImageRow struct {
	Label    string
	Images   [][]float64
	Captions []string
}

// Layout of image grids (in points).
const (
	gridMaxCell   = 64  // largest image side, about 0.9 inch
	gridSpacing   = 6   // space between images
	gridMaxWidth  = 468 // DefaultWidth in points
	gridLabelFont = 11
	gridCapFont   = 9
	gridTitleFont = 13
)

// ImageGrid draws rows of small grey images, such as MNIST digits above their
// adversarial versions, ink dark on white. Pixel values are mapped linearly from the
// smallest to the largest value in the whole grid, so rows compare on one scale.
// Every image must be square and all of one size; the figure holds an error
// otherwise.
func ImageGrid(title string, rows []ImageRow) *Figure {
	if len(rows) == 0 {
		return errFigure("ImageGrid: no rows")
	}
	side, cols := -1, 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, row := range rows {
		if len(row.Captions) != 0 && len(row.Captions) != len(row.Images) {
			return errFigure("ImageGrid: row %d (%q) has %d images and %d captions", r, row.Label, len(row.Images), len(row.Captions))
		}
		cols = max(cols, len(row.Images))
		for i, im := range row.Images {
			s := int(math.Round(math.Sqrt(float64(len(im)))))
			if s*s != len(im) || s == 0 {
				return errFigure("ImageGrid: image %d of row %d has %d pixels, not a square number", i, r, len(im))
			}
			if side >= 0 && s != side {
				return errFigure("ImageGrid: images of %d×%d and %d×%d pixels in one grid", side, side, s, s)
			}
			side = s
			for _, v := range im {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if cols == 0 {
		return errFigure("ImageGrid: no images")
	}
	if !(hi > lo) {
		lo, hi = lo-1, lo+1 // a constant grid: draw mid-grey, not a division by zero
	}

	labelStyle := gridText(gridLabelFont, draw.XRight, draw.YCenter)
	capStyle := gridText(gridCapFont, draw.XCenter, draw.YTop)
	titleStyle := gridText(gridTitleFont, draw.XCenter, draw.YTop)
	var labelW vg.Length
	hasCaptions := false
	for _, row := range rows {
		labelW = max(labelW, labelStyle.Width(row.Label))
		hasCaptions = hasCaptions || len(row.Captions) > 0
	}
	if labelW > 0 {
		labelW += 8 + gridSpacing // margin on both sides of the labels
	}
	cell := vg.Length(gridMaxCell)
	if avail := (gridMaxWidth - 2*gridSpacing - labelW) / vg.Length(cols); avail-gridSpacing < cell {
		cell = avail - gridSpacing
	}
	capH := vg.Length(0)
	if hasCaptions {
		capH = capStyle.Height("Mg") + 2
	}
	titleH := vg.Length(0)
	if title != "" {
		titleH = titleStyle.Height(title) + 8
	}
	rowH := cell + capH + gridSpacing
	width := labelW + vg.Length(cols)*(cell+gridSpacing) + gridSpacing
	height := titleH + vg.Length(len(rows))*rowH + gridSpacing

	imgs := make([][]image.Image, len(rows))
	for r, row := range rows {
		for _, im := range row.Images {
			imgs[r] = append(imgs[r], greyImage(im, side, lo, hi))
		}
	}
	frame := draw.LineStyle{Color: color.Gray{Y: 160}, Width: vg.Points(0.5)}
	fig := &Figure{Width: width, Height: height, title: title}
	fig.custom = func(c draw.Canvas) {
		top := c.Max.Y
		if title != "" {
			c.FillText(titleStyle, vg.Point{X: c.Min.X + (c.Max.X-c.Min.X)/2, Y: top - 4}, title)
			top -= titleH
		}
		for r, row := range rows {
			y1 := top - vg.Length(r)*rowH - gridSpacing
			y0 := y1 - cell
			if row.Label != "" {
				c.FillText(labelStyle, vg.Point{X: c.Min.X + labelW - 8, Y: (y0 + y1) / 2}, row.Label)
			}
			for i, im := range imgs[r] {
				x0 := c.Min.X + labelW + gridSpacing + vg.Length(i)*(cell+gridSpacing)
				rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + cell, Y: y1}}
				c.DrawImage(rect, im)
				c.StrokeLines(frame, []vg.Point{rect.Min, {X: rect.Max.X, Y: rect.Min.Y}, rect.Max, {X: rect.Min.X, Y: rect.Max.Y}, rect.Min})
				if i < len(row.Captions) && row.Captions[i] != "" {
					c.FillText(capStyle, vg.Point{X: x0 + cell/2, Y: y0 - 2}, row.Captions[i])
				}
			}
		}
	}
	return fig
}

func gridText(size vg.Length, x text.XAlignment, y text.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sansFont, size),
		XAlign:  x,
		YAlign:  y,
		Handler: text.Plain{Fonts: font.DefaultCache},
	}
}

// greyImage turns row-major pixel values into an image, enlarged by whole pixels so
// that neither backend smooths the digits into a blur: lo is white, hi is black.
func greyImage(px []float64, side int, lo, hi float64) image.Image {
	scale := max(1, 64/side)
	img := image.NewGray(image.Rect(0, 0, side*scale, side*scale))
	for r := 0; r < side; r++ {
		for c := 0; c < side; c++ {
			v := px[r*side+c]
			t := 0.5
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				t = (v - lo) / (hi - lo)
			}
			g := color.Gray{Y: uint8(math.Round(255 * (1 - t)))}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray(c*scale+dx, r*scale+dy, g)
				}
			}
		}
	}
	return img
}

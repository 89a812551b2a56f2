//go:build ignore

// logo_gen draws the gocvx logo, a convex bowl with its global minimum marked, as an
// SVG and as 32×32 and 64×64 PNGs rasterized from the same shapes. Run by go generate.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

// The drawing, in a 64×64 box with y pointing down.
const (
	size   = 64.0
	radius = 12.0 // corner radius of the background
	stroke = 6.0  // width of the bowl
	dotR   = 6.5  // radius of the minimum
)

var (
	background = color.NRGBA{0x00, 0xAD, 0xD8, 0xff} // Go blue
	bowlColor  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	dotColor   = color.NRGBA{0xFD, 0xDD, 0x00, 0xff}
	dotX       = 32.0
)

// bowl is the graph of a convex function, f(u) = 28u² for u in [−1, 1], drawn as a
// U: screen y = 48 − f((x−32)/22), so its minimum is at the bottom, at (32, 48).
func bowl() [][2]float64 {
	var pts [][2]float64
	for i := 0; i <= 44; i++ {
		x := 10 + float64(i)
		u := (x - 32) / 22
		pts = append(pts, [2]float64{x, 48 - 28*u*u})
	}
	return pts
}

func main() {
	pts := bowl()
	writeSVG(pts)
	for _, n := range []int{32, 64} {
		writePNG(pts, n)
	}
}

func writeSVG(pts [][2]float64) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`+"\n")
	fmt.Fprintf(&b, `<rect width="64" height="64" rx="%g" fill="%s"/>`+"\n", radius, hexColor(background))
	fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%g" stroke-linecap="round" stroke-linejoin="round" points="`, hexColor(bowlColor), stroke)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f,%.2f", p[0], p[1])
	}
	b.WriteString(`"/>` + "\n")
	fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="%g" fill="%s"/>`+"\n", dotX, minY(pts), dotR, hexColor(dotColor))
	b.WriteString("</svg>\n")
	if err := os.WriteFile("kernelspec/logo-svg.svg", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func minY(pts [][2]float64) float64 {
	y := 0.0
	for _, p := range pts {
		y = math.Max(y, p[1])
	}
	return y
}

func hexColor(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// writePNG rasterizes the shapes at n×n pixels with 8×8 supersampling.
func writePNG(pts [][2]float64, n int) {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	const ss = 8
	scale := size / float64(n)
	cy := minY(pts)
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			var r, g, bl, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) * scale
					y := (float64(py) + (float64(sy)+0.5)/ss) * scale
					var c color.NRGBA
					switch {
					case math.Hypot(x-dotX, y-cy) <= dotR:
						c = dotColor
					case distPolyline(x, y, pts) <= stroke/2:
						c = bowlColor
					case inRoundRect(x, y):
						c = background
					default:
						continue
					}
					r += float64(c.R)
					g += float64(c.G)
					bl += float64(c.B)
					a++
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(bl/a + 0.5), uint8(255*a/(ss*ss) + 0.5),
			})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(fmt.Sprintf("kernelspec/logo-%dx%d.png", n, n), b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func inRoundRect(x, y float64) bool {
	qx := math.Max(math.Abs(x-size/2)-(size/2-radius), 0)
	qy := math.Max(math.Abs(y-size/2)-(size/2-radius), 0)
	return math.Hypot(qx, qy) <= radius
}

func distPolyline(x, y float64, pts [][2]float64) float64 {
	d := math.Inf(1)
	for i := 1; i < len(pts); i++ {
		ax, ay, bx, by := pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1]
		dx, dy := bx-ax, by-ay
		t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		d = math.Min(d, math.Hypot(x-ax-t*dx, y-ay-t*dy))
	}
	return d
}
